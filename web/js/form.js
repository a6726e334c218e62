// Showing API errors next to the field they concern.

/**
 * Shows `message` under the field `name` (or in the form's general slot),
 * and marks the field invalid unless the fault is not the input's.
 */
export function showError(form, name, message, { invalid = true } = {}) {
  const slot = form.querySelector(`[data-error-for="${name}"]`) || form.querySelector('[data-error-for="form"]');
  slot.textContent = message;
  const input = form.elements[name];
  if (input && invalid) input.setAttribute("aria-invalid", "true");
}

export function clearError(form, name) {
  const slot = form.querySelector(`[data-error-for="${name}"]`);
  if (slot) slot.textContent = "";
  const input = form.elements[name];
  if (input) input.removeAttribute("aria-invalid");
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** An API error body, shown next to its `field` when the form has one. */
export function showApiError(form, body) {
  showError(form, body.field || "form", body.message || "请求失败，请稍后重试");
}
