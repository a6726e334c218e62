// Login: 密码登录 (POST /user/login) or 短信登录 (a code sent with purpose
// "login", then POST /user/login/sms). The number field is shared by both tabs.
import * as api from "./api.js";
import * as session from "./session.js";
import { clearErrors, showRefusal } from "./form.js";
import { wireSmsButton } from "./sms.js";

const form = document.querySelector("#login-form");
const submitButton = form.querySelector('button[type="submit"]');
const status = document.querySelector("#login-status");
const tabs = [...document.querySelectorAll('[role="tab"]')];

function mode() {
  return tabs.find((t) => t.getAttribute("aria-selected") === "true").id === "tab-sms" ? "sms" : "password";
}

function select(tab, { focus = false } = {}) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute("aria-selected", String(selected));
    t.tabIndex = selected ? 0 : -1;
    document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
  }
  if (focus) tab.focus();
  clearErrors(form);
  status.textContent = "";
}

for (const tab of tabs) {
  tab.addEventListener("click", () => select(tab));
  // The ARIA tabs pattern: the arrow keys move between tabs.
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    select(tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length], { focus: true });
  });
}
// login.html#sms opens the 短信登录 tab.
if (location.hash === "#sms") select(document.querySelector("#tab-sms"));

wireSmsButton(form, document.querySelector("#send-sms"), {
  purpose: "login",
  onSent: () => (status.textContent = "验证码已发送，请注意查收"),
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  status.textContent = "";
  submitButton.disabled = true;
  const mobile = form.elements.mobile.value.trim();
  const reply =
    mode() === "sms"
      ? await api.loginBySms({ mobile, sms_code: form.elements.sms_code.value.trim() })
      : await api.login({ username: mobile, password: form.elements.password.value });
  if (!reply.ok) {
    submitButton.disabled = false;
    // A refused pair concerns neither field alone: it shows above the button.
    showRefusal(form, reply);
    return;
  }
  session.save(reply.body, form.elements.remember.checked);
  location.assign("/");
});
