import * as api from "./api.js";
import * as session from "./session.js";
import { clearError, clearErrors, showApiError, showError } from "./form.js";

const form = document.querySelector("#register-form");
const sendButton = document.querySelector("#send-sms");
const submitButton = form.querySelector('button[type="submit"]');
const status = document.querySelector("#register-status");
const SEND_LABEL = sendButton.textContent;
let countdownTimer = null;

function mobileValue() {
  return form.elements.mobile.value.trim();
}

function checkMobileShape() {
  if (!api.looksLikeMobile(mobileValue())) {
    showError(form, "mobile", "手机号码格式有误");
    return false;
  }
  return true;
}

form.elements.mobile.addEventListener("blur", async () => {
  clearError(form, "mobile");
  if (mobileValue() === "" || !checkMobileShape()) return;
  const reply = await api.checkMobile(mobileValue());
  if (!reply.ok) showApiError(form, reply.body);
});

function startCountdown(seconds) {
  clearInterval(countdownTimer);
  let left = Math.max(1, Math.ceil(seconds));
  sendButton.disabled = true;
  sendButton.textContent = `${left}秒后可重新发送`;
  countdownTimer = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      clearInterval(countdownTimer);
      sendButton.disabled = false;
      sendButton.textContent = SEND_LABEL;
    } else {
      sendButton.textContent = `${left}秒后可重新发送`;
    }
  }, 1000);
}

sendButton.addEventListener("click", async () => {
  clearError(form, "mobile");
  clearError(form, "sms_code");
  if (!checkMobileShape()) return;
  sendButton.disabled = true;
  const reply = await api.sendSms(mobileValue());
  if (reply.ok) {
    startCountdown(reply.body.resend_after);
    status.textContent = "验证码已发送，请注意查收";
  } else if (reply.status === 429) {
    // Too soon, not a wrong input: say so by the code field without marking it.
    startCountdown(reply.body.retry_after);
    showError(form, "sms_code", reply.body.message, { invalid: false });
  } else if (reply.body.field === "mobile") {
    sendButton.disabled = false;
    showApiError(form, reply.body);
  } else {
    sendButton.disabled = false;
    showError(form, "sms_code", reply.body.message || "短信发送失败，请稍后重试", { invalid: false });
  }
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  status.textContent = "";
  submitButton.disabled = true;
  const reply = await api.register({
    mobile: mobileValue(),
    password: form.elements.password.value,
    password2: form.elements.password2.value,
    sms_code: form.elements.sms_code.value.trim(),
  });
  if (!reply.ok) {
    submitButton.disabled = false;
    showApiError(form, reply.body);
    return;
  }
  session.save(reply.body);
  status.textContent = "注册成功";
  setTimeout(() => location.assign("/"), 800);
});
