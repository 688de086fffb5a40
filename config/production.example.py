# Copy to a private path and point PBVOTE_CONFIG at it. Secrets stay in the environment:
#   PBVOTE_SECRET_KEY, PBVOTE_IDENTITY_KEY, PBVOTE_DATABASE_URL=postgresql+psycopg://…,
#   PBVOTE_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0
REQUIRE_SECRET_FROM_ENVIRONMENT = True
SESSION_COOKIE_SECURE = True
PREFERRED_URL_SCHEME = "https"
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 5}
