// Local stand-ins for the captcha providers' widget scripts, served by the
// test through page.route at the provider's real script URL (never fetched),
// and a config.js naming the provider. Each stand-in keeps the provider's
// API (Geetest v4: initGeetest4 / captcha.appendTo, onSuccess, getValidate,
// reset; Turnstile: turnstile.render with callback, turnstile.reset) and
// records its calls in window.__captcha for the test to read.
import assert from "node:assert/strict";

export const GEETEST_SCRIPT = "https://static.geetest.com/v4/gt4.js";
export const TURNSTILE_SCRIPT = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
export const GEETEST_ID = "test-geetest-captcha-id";
export const TURNSTILE_KEY = "test-turnstile-site-key";

// A click on the stand-in's button passes the check, as a real user would.
const GEETEST_STAND_IN = `
window.__captcha = { provider: "geetest", configs: [], resets: 0, passes: 0 };
window.initGeetest4 = function (config, ready) {
  window.__captcha.configs.push(config);
  var passed = null, onSuccess = function () {}, button = document.createElement("button");
  button.type = "button";
  button.textContent = "点击按钮进行验证";
  button.onclick = function () {
    var n = ++window.__captcha.passes;
    passed = { lot_number: "lot-" + n, captcha_output: "output-" + n, pass_token: "pass-" + n, gen_time: "1700000000", captcha_id: config.captchaId };
    button.textContent = "验证成功";
    onSuccess();
  };
  var captcha = {
    appendTo: function (where) { (typeof where === "string" ? document.querySelector(where) : where).appendChild(button); return captcha; },
    onReady: function (f) { setTimeout(f, 0); return captcha; },
    onSuccess: function (f) { onSuccess = f; return captcha; },
    onError: function () { return captcha; },
    onClose: function () { return captcha; },
    getValidate: function () { return passed; },
    reset: function () { passed = null; button.textContent = "点击按钮进行验证"; window.__captcha.resets++; },
    showCaptcha: function () {},
    destroy: function () { button.remove(); },
  };
  setTimeout(function () { ready(captcha); }, 0);
};
`;

const TURNSTILE_STAND_IN = `
window.__captcha = { provider: "turnstile", renders: [], resets: 0, passes: 0 };
window.turnstile = {
  render: function (container, params) {
    var el = typeof container === "string" ? document.querySelector(container) : container;
    window.__captcha.renders.push({ sitekey: params.sitekey });
    var label = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox";
    label.append(box, " 确认您是真人");
    box.onchange = function () { if (box.checked) params.callback("token-" + (++window.__captcha.passes)); };
    el.appendChild(label);
    window.__captcha.box = box;
    return "widget-1";
  },
  reset: function (id) { if (id === "widget-1") { window.__captcha.box.checked = false; window.__captcha.resets++; } },
  getResponse: function () { return undefined; },
  remove: function () {},
  ready: function (f) { f(); },
};
`;

/**
 * Serves web/js/config.js with CAPTCHA_PROVIDER set to `provider` (and its
 * public id), and the provider's script URL with the stand-in.
 */
export async function useCaptcha(page, provider) {
  await page.route("**/js/config.js", async (route) => {
    const response = await route.fetch();
    const original = await response.text();
    let text = original.replace('CAPTCHA_PROVIDER = "none"', `CAPTCHA_PROVIDER = "${provider}"`);
    text = text.replace('GEETEST_CAPTCHA_ID = ""', `GEETEST_CAPTCHA_ID = "${GEETEST_ID}"`);
    text = text.replace('TURNSTILE_SITE_KEY = ""', `TURNSTILE_SITE_KEY = "${TURNSTILE_KEY}"`);
    assert.notEqual(text, original, "config.js still has its CAPTCHA_PROVIDER line");
    await route.fulfill({ response, body: text });
  });
  const script = { geetest: GEETEST_SCRIPT, turnstile: TURNSTILE_SCRIPT }[provider];
  const body = { geetest: GEETEST_STAND_IN, turnstile: TURNSTILE_STAND_IN }[provider];
  await page.route(
    (url) => url.href === script,
    (route) => route.fulfill({ status: 200, contentType: "text/javascript; charset=utf-8", body }),
  );
}

/** Passes the stand-in's check as a user would (its button or checkbox). */
export async function passCaptcha(page) {
  const provider = await page.evaluate(() => window.__captcha.provider);
  if (provider === "geetest") await page.locator("#captcha button").click();
  else await page.locator("#captcha input[type=checkbox]").check();
}
