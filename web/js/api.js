// Calls to the sign-up API. Every answer comes back as
// { ok, status, body, retryAfter }; errors carry the API's stable `code`,
// its message and the `field` at fault. Every body is sent as JSON with
// Content-Type: application/json (the API refuses anything else with 415).
import { API_BASE } from "./config.js";

async function call(method, path, { body, token } = {}) {
  const init = { method, headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (token) init.headers.authorization = `Bearer ${token}`;
  try {
    const response = await fetch(API_BASE + path, init);
    const data = await response.json().catch(() => ({}));
    return {
      ok: response.ok,
      status: response.status,
      body: data && typeof data === "object" ? data : {},
      retryAfter: retryAfterSeconds(data?.retry_after, response.headers.get("retry-after")),
    };
  } catch {
    return { ok: false, status: 0, body: { code: "network_error", message: "网络连接失败，请稍后重试" }, retryAfter: null };
  }
}

/**
 * How long to wait, in whole seconds, from the body's `retry_after` or the
 * Retry-After header (seconds form); null when neither is a usable number.
 */
export function retryAfterSeconds(fromBody, fromHeader) {
  for (const value of [fromBody, fromHeader]) {
    if (value === null || value === undefined || value === "") continue;
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds > 0) return Math.ceil(seconds);
  }
  return null;
}

export const checkMobile = (mobile) => call("GET", `/user/mobile/${encodeURIComponent(mobile)}`);

/**
 * POST /user/sms. `purpose` is left out for "register" (the API's default);
 * `captcha` is the widget's result, left out when no captcha is configured.
 */
export function sendSms(mobile, { purpose = "register", captcha = null } = {}) {
  const body = { mobile };
  if (purpose !== "register") body.purpose = purpose;
  if (captcha) body.captcha = captcha;
  return call("POST", "/user/sms", { body });
}

export const register = (form) => call("POST", "/user/register", { body: form });
export const login = (form) => call("POST", "/user/login", { body: form });
export const loginBySms = (form) => call("POST", "/user/login/sms", { body: form });
export const resetPassword = (form) => call("POST", "/user/password/reset", { body: form });
export const me = (token) => call("GET", "/user/me", { token });

// The same rule as the server's Mobile::parse, only to spare a request for an
// obvious typo; the server's answer is what counts.
export function looksLikeMobile(raw) {
  const compact = raw.replace(/[ -]/g, "").replace(/^(\+86|0086)/, "");
  return /^1[3-9][0-9]{9}$/.test(compact);
}
