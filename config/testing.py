# Tests: CSRF stays on (the web tests fetch tokens like a browser does).
TESTING = True
SECRET_KEY = "test-secret-not-for-production"
IDENTITY_HMAC_KEY = "test-identity-key"
RATELIMIT_ENABLED = False
