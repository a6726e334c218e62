// Calls to the sign-up API. Every answer comes back as { ok, status, body };
// errors carry the API's stable `code`, its message and the `field` at fault.
import { API_BASE } from "./config.js";

async function call(method, path, body) {
  const init = { method, headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(API_BASE + path, init);
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body: data };
  } catch {
    return { ok: false, status: 0, body: { code: "network_error", message: "网络连接失败，请稍后重试" } };
  }
}

export const checkMobile = (mobile) => call("GET", `/user/mobile/${encodeURIComponent(mobile)}/`);
export const sendSms = (mobile) => call("POST", "/user/sms/", { mobile });
export const register = (form) => call("POST", "/user/register/", form);
export const login = (form) => call("POST", "/user/login/", form);

// The same rule as the server's Mobile::parse, only to spare a request for an
// obvious typo; the server's answer is what counts.
export function looksLikeMobile(raw) {
  const compact = raw.replace(/[ -]/g, "").replace(/^(\+86|0086)/, "");
  return /^1[3-9][0-9]{9}$/.test(compact);
}
