// Showing API errors next to the field they concern.

// Where a refusal is shown, by its stable `code`. The API's `field` names
// the input at fault; these refusals are about the request instead (a limit,
// the captcha, the service), so the page places them itself.
const PLACE = {
  sms_too_frequent: "sms_code", // next to the 点击发送短信 button
  sms_ip_limit: "sms_code",
  sms_budget_exhausted: "sms_code",
  sms_send_failed: "sms_code",
  sms_daily_limit: "mobile", // this number's own daily cap
  sms_code_attempts_exceeded: "sms_code",
  mobile_not_registered: "mobile",
  mobile_registered: "mobile",
  captcha_required: "captcha",
  captcha_failed: "captcha",
  captcha_unavailable: "captcha",
  too_many_attempts: "form",
  login_locked: "form",
  invalid_credentials: "form",
};

// Refusals shown without marking the field invalid: the input is fine, the
// request has to wait (or the service is down).
const NOT_THE_INPUTS_FAULT = new Set([
  "sms_too_frequent",
  "sms_ip_limit",
  "sms_daily_limit",
  "sms_budget_exhausted",
  "sms_send_failed",
  "sms_code_attempts_exceeded",
  "captcha_unavailable",
  "too_many_attempts",
  "login_locked",
  "service_unavailable",
  "internal_error",
  "network_error",
]);

// Refusals that only mean "not now": the page's own words, so they always
// read as 稍后再试 whatever the server's message says.
const TRY_LATER = {
  sms_budget_exhausted: "短信服务繁忙，请稍后再试",
  captcha_unavailable: "人机验证服务暂不可用，请稍后再试",
};

/**
 * What to show for a refused reply: { field, message, invalid }; `near` is
 * the slot for a refusal that names no field (the form's general one by
 * default). An answer without a `code` is not the API's own (API Gateway's
 * throttle answers {"message":"Too Many Requests"}): it gets a Chinese
 * message by status.
 */
export function describeRefusal(reply, near = "form") {
  const body = reply.body || {};
  if (!body.code) {
    const message = reply.status === 429 ? "请求过于频繁，请稍后再试" : "服务暂时不可用，请稍后再试";
    return { field: near, message, invalid: false };
  }
  return {
    field: PLACE[body.code] || body.field || near,
    message: TRY_LATER[body.code] || body.message || "请求失败，请稍后再试",
    invalid: !NOT_THE_INPUTS_FAULT.has(body.code),
  };
}

/** The error slot of `name`, or the form's general one when that is missing or hidden. */
function slotFor(form, name) {
  const slot = form.querySelector(`[data-error-for="${name}"]`);
  if (slot && !slot.closest("[hidden]")) return slot;
  return form.querySelector('[data-error-for="form"]');
}

/**
 * Shows `message` under the field `name` (or in the form's general slot),
 * and marks the field invalid unless the fault is not the input's.
 */
export function showError(form, name, message, { invalid = true } = {}) {
  slotFor(form, name).textContent = message;
  const input = form.elements[name];
  if (input instanceof HTMLInputElement && invalid) input.setAttribute("aria-invalid", "true");
}

export function clearError(form, name) {
  const slot = form.querySelector(`[data-error-for="${name}"]`);
  if (slot) slot.textContent = "";
  const input = form.elements[name];
  if (input instanceof HTMLInputElement) input.removeAttribute("aria-invalid");
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** A refused reply, shown where it belongs (`near` as for describeRefusal). */
export function showRefusal(form, reply, { near = "form" } = {}) {
  const { field, message, invalid } = describeRefusal(reply, near);
  showError(form, field, message, { invalid });
}
