"""End-to-end ingest throughput against the raw embedding throughput of the same model on the same texts.

Generates a Slack workspace export of N messages (default 100,000: thread-starting questions from BANKING77,
staff and customer replies, chatter), then alternates, slice by slice, two contenders on the same machine:
  - end to end: `import_questions` (parse → clean → detect → redact → language → SQLite → embed → Chroma)
  - raw: `embedder.embed()` on exactly the questions that slice stored
Interleaving matters here: these CPUs slow down ~3× under sustained load, so the two are compared as a ratio
over the same stretch of time, never as absolute numbers from different moments.

    python -m bench.ingest [--messages 100000] [--slices 5]

(Run it as a module: as a script, this file's folder would shadow the `ingest` package it measures.)
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from core.models import Question
from core.runtime import Runtime
from core.settings import Settings
from demo import DEMO_DIR
from ingest.detection import detect_languages
from ingest.slack import read_slack_export
from usecases.pipeline import import_questions

CHATTER = ["Thanks!", "+1", "Great, thanks team", "Merci !", "Sounds good 👍", "Have a good weekend!"]


def make_export(path: Path, messages: int, seed: int = 1, offset: int = 0) -> int:
    """A Slack export with `messages` messages; returns how many are thread-starting customer questions."""
    rng = random.Random(seed)
    with (DEMO_DIR / "banking77" / "train.csv").open(encoding="utf-8") as fh:
        texts = [r["text"] for r in csv.DictReader(fh)]
    channels = [{"id": f"CB{i:03d}", "name": f"ext-bench-{i}"} for i in range(20)]
    users = [{"id": f"UC{i}", "name": f"c{i}", "profile": {"email": f"c{i}@cust{i % 20}.com"}} for i in range(200)]
    users += [{"id": f"US{i}", "name": f"s{i}", "profile": {"email": f"s{i}@fernpay.com"}} for i in range(5)]
    start = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
    days: dict[tuple[str, str], list[dict]] = {}
    n = questions = 0
    while n < messages:
        ch = rng.choice(channels)["name"]
        ts = start + (offset + n) * 97.0
        root = {"type": "message", "user": f"UC{rng.randrange(200)}", "ts": f"{ts:.6f}"}
        if rng.random() < 0.1:
            root["text"] = rng.choice(CHATTER)
        else:
            # A ticket number makes every question distinct, as real ones are.
            root["text"] = f"{rng.choice(texts)} (order {rng.randrange(10**6)})"
            questions += 1
        msgs = [root]
        for k in range(rng.choice([0, 0, 1, 1, 2])):
            author = f"US{rng.randrange(5)}" if k == 0 else root["user"]
            reply = "Thanks, I've fixed this for you." if author.startswith("US") else "Still not working, sorry."
            msgs.append(
                {"type": "message", "user": author, "text": reply, "ts": f"{ts + 10 + k:.6f}", "thread_ts": root["ts"]}
            )
        day = datetime.fromtimestamp(ts, UTC).date().isoformat()
        days.setdefault((ch, day), []).extend(msgs)
        n += len(msgs)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("channels.json", json.dumps(channels))
        zf.writestr("users.json", json.dumps(users))
        for (ch, day), msgs in days.items():
            zf.writestr(f"{ch}/{day}.json", json.dumps(msgs))
    return questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--slices", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "data", staff_domains="fernpay.com", _env_file=None)  # type: ignore[call-arg]
        rt = Runtime(settings)
        rt.embedder.embed(["warm up"])
        detect_languages(["warm up the language detector"])  # one-time model loads are not throughput
        per = args.messages // args.slices
        e2e_s = raw_s = 0.0
        total_msgs = total_q = 0
        print(f"{'slice':>5} {'messages':>9} {'questions':>9} {'e2e q/s':>8} {'raw q/s':>8} {'ratio':>6}")
        for i in range(args.slices):
            export = root / f"slice{i}.zip"
            make_export(export, per, seed=i, offset=i * per)
            with Session(rt.engine) as s:
                last_id = max(s.exec(select(Question.id)).all() or [0])
            t0 = time.perf_counter()
            result = import_questions(rt, read_slack_export(export, settings.staff_domain_list))
            t1 = time.perf_counter()
            with Session(rt.engine) as s:
                texts = list(s.exec(select(Question.text).where(col(Question.id) > last_id)).all())
            t2 = time.perf_counter()
            rt.embedder.embed(texts)
            t3 = time.perf_counter()
            e2e_s += t1 - t0
            raw_s += t3 - t2
            total_msgs += per
            total_q += result.added
            print(
                f"{i:>5} {per:>9,} {result.added:>9,} {result.added / (t1 - t0):>8.0f} {len(texts) / (t3 - t2):>8.0f} "
                f"{(result.added / (t1 - t0)) / (len(texts) / (t3 - t2)):>6.2f}"
            )
        print(f"\nend to end: {total_msgs / e2e_s:,.0f} messages/s, {total_q / e2e_s:,.0f} questions/s")
        print(f"raw encode: {total_q / raw_s:,.0f} texts/s on the same questions")
        print(f"ratio end-to-end / raw encode: {raw_s / e2e_s:.2f} (goal ≥ 0.8)")


if __name__ == "__main__":
    main()
