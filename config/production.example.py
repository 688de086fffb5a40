# Copy to a private path and point PBVOTE_CONFIG at it. Secrets stay in the environment:
#   PBVOTE_SECRET_KEY, PBVOTE_IDENTITY_KEY, PBVOTE_DATABASE_URL=postgresql+psycopg://…,
#   PBVOTE_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0
REQUIRE_SECRET_FROM_ENVIRONMENT = True
SESSION_COOKIE_SECURE = True
PREFERRED_URL_SCHEME = "https"
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 5}
# Residents' sign-in codes and idea status emails go out by SMTP; the password comes from
# the environment (PBVOTE_SMTP_PASSWORD).
MAIL_BACKEND = "smtp"
MAIL_SMTP_HOST = "smtp.example.org"
MAIL_SMTP_PORT = 587
MAIL_SMTP_USERNAME = "pbvote@example.org"
MAIL_SMTP_TLS = "starttls"  # or "ssl" (port 465)
MAIL_FROM = "Participatory budgeting <pbvote@example.org>"
RESIDENT_SIGN_IN_RATE_LIMIT = "10/minute"
# Jobs (letters for a whole roll, mail): on Redis through RQ with PBVOTE_REDIS_URL set, else
# on the database's job table. Either way run `pbvote worker` (config/pbvote-worker.service);
# the app servers run no worker thread.
JOBS_EMBEDDED_WORKER = False
# One JSON object per log line, for the journal or a log collector.
LOG_FORMAT = "json"
