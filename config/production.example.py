# Copy to a private path and point PBVOTE_CONFIG at it. Secrets stay in the environment:
#   PBVOTE_SECRET_KEY, PBVOTE_IDENTITY_KEY (two different random secrets of at least 32
#   characters; never change the identity key during a cycle), PBVOTE_DATABASE_URL=
#   postgresql+psycopg://… (required), PBVOTE_RATELIMIT_STORAGE_URI=redis://… (the default
#   below; an in-memory store is refused with more than one worker).
# REQUIRE_SECRET_FROM_ENVIRONMENT makes the app refuse to start when any of these is missing
# or weak (pbvote.infra.settings.check_production).
REQUIRE_SECRET_FROM_ENVIRONMENT = True
# gunicorn listens on 127.0.0.1 behind one reverse proxy, which sets X-Forwarded-For; rate
# limits then count each resident's own address, not the proxy's.
TRUSTED_PROXIES = 1
# Rate limits shared by every worker process (and app server).
RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
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
# Text messages for online self-declaration codes: the provider class, built with the config
# and called as send(number, text) by the "sms.send" job (pbvote.services.sms.SmsBackend).
# Left empty, residents are asked for an email address instead of a phone number.
# SMS_BACKEND = "citysms.pbvote:Backend"
# Jobs (letters for a whole roll, mail): on Redis through RQ with PBVOTE_REDIS_URL set, else
# on the database's job table. Either way run `pbvote worker` (config/pbvote-worker.service);
# the app servers run no worker thread.
JOBS_EMBEDDED_WORKER = False
# One JSON object per log line, for the journal or a log collector.
LOG_FORMAT = "json"
# The map's tiles: a tile server the city may use (https; its usage policy allows this site),
# e.g. "https://tile.example.org/{z}/{x}/{y}.png", or PBVOTE_MAP_TILES. None draws the district
# outlines and points only. The page's CSP then allows that one host for images.
MAP_TILES = None
MAP_ATTRIBUTION = ""  # e.g. "© OpenStreetMap contributors", as the tile licence asks
