"""Sending what docgap writes to where people work: Slack (incoming webhooks, Block Kit) and email (SMTP)."""
