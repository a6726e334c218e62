import * as api from "./api.js";
import * as session from "./session.js";
import { clearErrors, showApiError } from "./form.js";

const form = document.querySelector("#login-form");
const submitButton = form.querySelector('button[type="submit"]');

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  submitButton.disabled = true;
  const reply = await api.login({ username: form.elements.username.value.trim(), password: form.elements.password.value });
  if (!reply.ok) {
    submitButton.disabled = false;
    // A 401 concerns the pair, not one field: show it above the button.
    showApiError(form, reply.status === 401 ? { ...reply.body, field: "form" } : reply.body);
    return;
  }
  session.save(reply.body, form.elements.remember.checked);
  location.assign("/");
});
