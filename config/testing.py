# Tests: CSRF stays on (the web tests fetch tokens like a browser does).
TESTING = True
SECRET_KEY = "test-secret-not-for-production"
IDENTITY_HMAC_KEY = "test-identity-key"
RATELIMIT_ENABLED = False
# Fast argon2 for tests only; production keeps argon2-cffi's defaults (see config/default.py).
ARGON2_TIME_COST = 1
ARGON2_MEMORY_COST = 1024
ARGON2_PARALLELISM = 1
# Tests run job workers themselves (tests/integration/test_jobs.py).
JOBS_EMBEDDED_WORKER = False
