import * as api from "./api.js";
import * as session from "./session.js";
import { clearError, clearErrors, showError, showRefusal } from "./form.js";
import { wireSmsButton } from "./sms.js";

const form = document.querySelector("#register-form");
const submitButton = form.querySelector('button[type="submit"]');
const status = document.querySelector("#register-status");

function mobileValue() {
  return form.elements.mobile.value.trim();
}

form.elements.mobile.addEventListener("blur", async () => {
  clearError(form, "mobile");
  if (mobileValue() === "") return;
  if (!api.looksLikeMobile(mobileValue())) {
    showError(form, "mobile", "手机号码格式有误");
    return;
  }
  const reply = await api.checkMobile(mobileValue());
  if (!reply.ok) showRefusal(form, reply, { near: "mobile" });
});

wireSmsButton(form, document.querySelector("#send-sms"), {
  purpose: "register",
  onSent: () => (status.textContent = "验证码已发送，请注意查收"),
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
    showRefusal(form, reply);
    return;
  }
  session.save(reply.body);
  status.textContent = "注册成功";
  setTimeout(() => location.assign("/"), 800);
});
