// Every credential-shaped value the tests use, in one place. None is real: the webhook secrets
// are the ones the signed fixtures in test/fixtures/webhooks were made with (see its README),
// the others are made up. .gitleaks.toml allowlists this file (and only this one).
export const GITEA_WEBHOOK_SECRET = 'gitea_whsec_4f9d2c7a81e64b0b9a3e5d17c2f08b6e';
export const PLANE_WEBHOOK_SECRET = 'plane_wh_8c1f4e2a9b7d4c3e8f6a1b2c3d4e5f60';
export const PLANE_API_KEY = 'plane_api_key_0123456789abcdef';
export const GITEA_TOKEN = 'gitea_token_0123456789abcdef';
export const REVOKED_PLANE_API_KEY = 'revoked_key_0123456789';
