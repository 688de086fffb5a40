# Defaults for every environment. Secrets come only from the environment (PBVOTE_*).
SQLALCHEMY_DATABASE_URI = None  # PBVOTE_DATABASE_URL, else instance/pbvote.sqlite3
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
SECRET_KEY = None  # PBVOTE_SECRET_KEY; development keeps a generated one in instance/
IDENTITY_HMAC_KEY = None  # PBVOTE_IDENTITY_KEY; outside production defaults to SECRET_KEY
REQUIRE_SECRET_FROM_ENVIRONMENT = False
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None  # a ballot may take a while to fill in; the session bounds it
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
PERMANENT_SESSION_LIFETIME = 3600
MAX_CONTENT_LENGTH = 8 * 1024 * 1024
BABEL_DEFAULT_LOCALE = "en"
BABEL_DEFAULT_TIMEZONE = "UTC"
RATELIMIT_STORAGE_URI = "memory://"
# A sliding window: a fixed one lets 2× the limit through around each minute boundary.
RATELIMIT_STRATEGY = "moving-window"
RATELIMIT_HEADERS_ENABLED = True
SQLITE_BUSY_TIMEOUT_MS = 30000
# Staff sign-in: argon2id cost (argon2-cffi's defaults), attempts per minute per IP and per
# account on the sign-in forms, and the issuer name shown in authenticator apps.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST = 65536
ARGON2_PARALLELISM = 4
SIGN_IN_RATE_LIMIT = "10/minute"
# Failed voter checks (roll match or access code): per person named in a roll check, which
# stops guessing a neighbour's birth date from many addresses, and per network address,
# generous because a library or desk may put many residents behind one address.
# The per-person limit counts per address and person, so a neighbour guessing from their
# own address slows only themselves; the looser limit per person from any address is the
# backstop against guessing from many addresses (the roll-number path and an access code
# have keys of their own, so the real person always has a way in).
VOTER_CHECK_FAILURES_PER_PERSON = "10/hour"
VOTER_CHECK_FAILURES_PER_PERSON_ANY_ADDRESS = "100/day"
VOTER_CHECK_FAILURES_PER_ADDRESS = "60/10 minutes"
# Online self-declaration (cycles that switch it on): codes sent to one email address or
# phone, declarations for one home address (a household), declarations and code tries from
# one network address. Each declaration's code also stops after 5 wrong tries.
SELF_DECLARATION_PER_CONTACT = "5/hour"
SELF_DECLARATION_PER_ADDRESS = "10/day"
SELF_DECLARATION_PER_NETWORK = "20/hour"
SELF_DECLARATION_CODES_PER_NETWORK = "30/10 minutes"
# Text messages (self-declaration codes): "outbox" keeps them at /dev/outbox; production names
# a provider class, "package.module:Class" (pbvote.services.sms.SmsBackend).
SMS_BACKEND = ""
# Reverse proxies in front of the app that append to X-Forwarded-For (PBVOTE_TRUSTED_PROXIES);
# 0 trusts no header, so an address cannot be forged when there is no proxy.
TRUSTED_PROXIES = 0
TOTP_ISSUER = "pbvote"
# Jobs (services/jobs): "database" (a job table; no other service) or "rq" (Redis, when
# JOBS_REDIS_URL / PBVOTE_REDIS_URL is set). In development the app process runs a worker
# thread for the database backend; production runs `pbvote worker` instead.
JOBS_BACKEND = None
JOBS_REDIS_URL = None
JOBS_EMBEDDED_WORKER = True
# A voter-roll file from the web of at least this many bytes (about 20,000 rows) is imported
# by a job with a progress page; a smaller one at once, in the request.
ROLL_IMPORT_JOB_FROM_BYTES = 1024 * 1024
# ... and its preview (the comparison with the stored roll) is computed by a job too, whose
# progress page links to the preview: a request reading such a file could near nginx's
# proxy_read_timeout.
ROLL_PREVIEW_JOB_FROM_BYTES = 1024 * 1024
JOB_LEASE_SECONDS = 120
JOB_POLL_SECONDS = 1.0
JOB_TIMEOUT_SECONDS = 3600
# Result files can hold access codes in clear: deleted this long after the job ends.
JOB_RESULT_MAX_AGE_SECONDS = 86400
# Prometheus metrics at /metrics: readable from these addresses, or with the bearer token
# PBVOTE_METRICS_TOKEN; anyone else gets 404. Under gunicorn set PROMETHEUS_MULTIPROC_DIR.
METRICS_ENABLED = True
METRICS_ALLOWED_ADDRESSES = ("127.0.0.1", "::1")
METRICS_TOKEN = None
# "text" (development) or "json": one JSON object per log line (production).
LOG_FORMAT = "text"
LOG_LEVEL = "INFO"
# The city's participatory-budgeting office, shown on the contact, accessibility and privacy
# pages that every page's footer links to. A city sets its own (the demo's is fictional).
PB_OFFICE = {
    "name": "Riverton Participatory Budgeting Office",
    "email": "pb@riverton.example",
    "phone": "+1 555 0100",
    "address": "City Hall, 1 Main Street, Riverton",
    "hours": "Monday to Friday, 9:00 to 17:00",
    # days after a cycle's results are published until `pbvote enforce-retention` deletes its
    # voter roll and access codes and anonymises its participation records (the privacy page
    # shows the same figure)
    "retention_days": 365,
}

# The map (pbvote/web/maps.py): a tile server's URL template, https only, such as
# "https://tile.example.org/{z}/{x}/{y}.png" ("{s}" for subdomains is allowed), and the credit
# its licence asks for (plain text). None: no tiles, only the district outlines and the points,
# so the map loads nothing from another site. The map page's CSP allows that one tile host.
MAP_TILES = None
MAP_ATTRIBUTION = ""
