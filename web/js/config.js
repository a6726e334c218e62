// The settings of the pages. Nothing else needs editing for a deployment.

// Where the API is. Empty means the same origin (the local API serves both,
// and so does the stack's CloudFront distribution). For a separate API, set
// the API Gateway URL from the stack's ApiUrl output, e.g.
//   export const API_BASE = "https://a1b2c3d4e5.execute-api.ap-east-1.amazonaws.com";
export const API_BASE = "";

// The captcha shown before any SMS is sent: "none", "geetest" or "turnstile".
// It must name the same provider as the API's CAPTCHA_PROVIDER.
export const CAPTCHA_PROVIDER = "none";

// Geetest v4 (极验): the public captcha id, the same as the API's GEETEST_CAPTCHA_ID.
export const GEETEST_CAPTCHA_ID = "";
export const GEETEST_SCRIPT_URL = "https://static.geetest.com/v4/gt4.js";

// Cloudflare Turnstile: the public site key (the API holds the secret key).
export const TURNSTILE_SITE_KEY = "";
export const TURNSTILE_SCRIPT_URL = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
