// 忘记密码: a code sent with purpose "reset_password", a new password twice,
// POST /user/password/reset; the answer logs the user in.
import * as api from "./api.js";
import * as session from "./session.js";
import { clearErrors, showRefusal } from "./form.js";
import { wireSmsButton } from "./sms.js";

const form = document.querySelector("#reset-form");
const submitButton = form.querySelector('button[type="submit"]');
const status = document.querySelector("#reset-status");

wireSmsButton(form, document.querySelector("#send-sms"), {
  purpose: "reset_password",
  onSent: () => (status.textContent = "验证码已发送，请注意查收"),
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  status.textContent = "";
  submitButton.disabled = true;
  const reply = await api.resetPassword({
    mobile: form.elements.mobile.value.trim(),
    sms_code: form.elements.sms_code.value.trim(),
    password: form.elements.password.value,
    password2: form.elements.password2.value,
  });
  if (!reply.ok) {
    submitButton.disabled = false;
    showRefusal(form, reply);
    return;
  }
  session.save(reply.body);
  status.textContent = "密码已重置，已为你登录";
  setTimeout(() => location.assign("/"), 800);
});
