// Streams the chat's answer: the form is posted to /chat/stream with fetch and its server-sent events are read as
// they come. Without JavaScript (or when fetch fails) the form posts to /chat and the whole page comes back.
(function () {
  const form = document.querySelector("form.ask");
  const out = document.getElementById("answer");
  if (!form || !out || !window.fetch || !window.TextDecoder) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const live = document.createElement("section");
    live.className = "answer streaming";
    live.setAttribute("aria-live", "polite");
    const text = document.createElement("div");
    text.className = "text";
    live.appendChild(text);
    out.replaceChildren(live);
    try {
      const response = await fetch("/chat/stream", { method: "POST", body: new FormData(form) });
      if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = (block.match(/^event: (.*)$/m) || [])[1];
          const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "{}");
          if (name === "delta") text.textContent += data.text;  // text, never HTML: it is not checked yet
          else if (name === "done") {  // both rendered and escaped by the server's templates
            out.innerHTML = data.html;
            const recent = document.querySelector("section.history");
            if (recent && data.history) recent.outerHTML = data.history;
          } else if (name === "error") text.textContent += " — " + data.message;
        }
      }
    } catch (err) {
      form.submit();  // the plain form: the same answer as a whole page
    } finally {
      button.disabled = false;
    }
  });
})();
