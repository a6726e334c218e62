// The 点击发送短信 button of every page that sends a code (register, login by
// SMS, password reset): shape check, captcha, POST /user/sms, the countdown,
// and each refusal under its field.
import * as api from "./api.js";
import { createCaptcha } from "./captcha.js";
import { clearError, showError, showRefusal } from "./form.js";

// When nothing says how long to wait (API Gateway's own 429 carries no
// retry_after), wait this long.
export const DEFAULT_WAIT_SECONDS = 60;

/** "59秒后可重新发送", or minutes / hours for the long waits of a daily or hourly cap. */
export function waitLabel(seconds) {
  if (seconds <= 90) return `${seconds}秒后可重新发送`;
  if (seconds <= 90 * 60) return `${Math.ceil(seconds / 60)}分钟后可重新发送`;
  return `${Math.ceil(seconds / 3600)}小时后可重新发送`;
}

/**
 * Wires `button` to send a code for `purpose` to the number in
 * form.elements.mobile. `onSent` runs after a successful send.
 */
export function wireSmsButton(form, button, { purpose, onSent = () => {} }) {
  const label = button.textContent;
  let timer = null;
  const captcha = createCaptcha(form, {
    onLoadError: () => showError(form, "captcha", "人机验证加载失败，请稍后再试", { invalid: false }),
  });

  function countdown(seconds) {
    clearInterval(timer);
    let left = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : DEFAULT_WAIT_SECONDS;
    button.disabled = true;
    button.textContent = waitLabel(left);
    timer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
      } else {
        button.textContent = waitLabel(left);
      }
    }, 1000);
  }

  button.addEventListener("click", async () => {
    const mobile = form.elements.mobile.value.trim();
    for (const name of ["mobile", "sms_code", "captcha"]) clearError(form, name);
    if (!api.looksLikeMobile(mobile)) {
      showError(form, "mobile", "手机号码格式有误");
      return;
    }
    let proof = null;
    if (captcha.enabled) {
      proof = captcha.result();
      if (!proof) {
        const message = captcha.failed
          ? "人机验证加载失败，请稍后再试"
          : captcha.loaded
            ? "请先完成人机验证"
            : "人机验证加载中，请稍后再试";
        showError(form, "captcha", message, { invalid: false });
        return;
      }
    }
    button.disabled = true;
    const reply = await api.sendSms(mobile, { purpose, captcha: proof });
    // A captcha result is good for one request, whatever the answer.
    if (captcha.enabled) captcha.reset();
    if (reply.ok) {
      countdown(api.retryAfterSeconds(reply.body.resend_after) ?? DEFAULT_WAIT_SECONDS);
      onSent(reply);
      return;
    }
    if (reply.status === 429) {
      // Too soon, not a wrong input: wait as long as the answer says, or a minute.
      countdown(reply.retryAfter ?? DEFAULT_WAIT_SECONDS);
    } else {
      button.disabled = false;
    }
    showRefusal(form, reply, { near: "sms_code" });
  });
}
