// The captcha shown before any SMS is sent, when config.js names a provider:
// Geetest v4 (gt4.js, initGeetest4) or Cloudflare Turnstile (api.js,
// turnstile.render). Each hands back what the API's "captcha" field takes:
//   Geetest   {"lot_number", "captcha_output", "pass_token", "gen_time"}
//   Turnstile {"token"}
// Both results are single-use: the widget is reset after every send.
import {
  CAPTCHA_PROVIDER,
  GEETEST_CAPTCHA_ID,
  GEETEST_SCRIPT_URL,
  TURNSTILE_SCRIPT_URL,
  TURNSTILE_SITE_KEY,
} from "./config.js";

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

async function geetest(container, done) {
  await loadScript(GEETEST_SCRIPT_URL);
  return new Promise((resolve) => {
    window.initGeetest4({ captchaId: GEETEST_CAPTCHA_ID, product: "float", language: "zho" }, (captcha) => {
      captcha.appendTo(`#${container.id}`);
      captcha.onSuccess(() => {
        const v = captcha.getValidate();
        done(v ? { lot_number: v.lot_number, captcha_output: v.captcha_output, pass_token: v.pass_token, gen_time: v.gen_time } : null);
      });
      captcha.onError(() => done(null));
      resolve({ reset: () => captcha.reset() });
    });
  });
}

async function turnstile(container, done) {
  await loadScript(TURNSTILE_SCRIPT_URL);
  const widget = window.turnstile.render(container, {
    sitekey: TURNSTILE_SITE_KEY,
    language: "zh-cn",
    callback: (token) => done({ token }),
    "expired-callback": () => done(null),
    "error-callback": () => done(null),
  });
  return { reset: () => window.turnstile.reset(widget) };
}

const PROVIDERS = { geetest, turnstile };

/**
 * The captcha of a form: its field (#captcha-field with a #captcha
 * container) is shown only when a provider is configured.
 * `result()` is the proof to send, or null when none is at hand; `failed`
 * says the provider's script could not be loaded.
 */
export function createCaptcha(form, { onLoadError } = {}) {
  const provider = PROVIDERS[CAPTCHA_PROVIDER];
  if (!provider) return { enabled: false, loaded: true, failed: false, result: () => null, reset() {} };
  const field = form.querySelector("#captcha-field");
  field.hidden = false;
  let proof = null;
  let widget = null;
  const state = {
    enabled: true,
    loaded: false,
    failed: false,
    result: () => proof,
    reset() {
      proof = null;
      widget?.reset();
    },
  };
  provider(form.querySelector("#captcha"), (result) => (proof = result)).then(
    (w) => {
      widget = w;
      state.loaded = true;
    },
    () => {
      state.failed = true;
      onLoadError?.();
    },
  );
  return state;
}
