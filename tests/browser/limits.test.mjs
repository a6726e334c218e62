// The pages under limits (issue 9), with the API's refusals intercepted:
// each refusal under its field, API Gateway's own throttle answer, the
// countdown that never shows NaN, and the captcha widgets (local stand-ins
// for the providers' scripts) whose result goes out with the send request.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { browserSuite, fulfillJson } from "./harness.mjs";
import { GEETEST_ID, GEETEST_SCRIPT, passCaptcha, TURNSTILE_KEY, useCaptcha } from "./stand-ins.mjs";

const suite = browserSuite();
const FORM_SLOT = '[data-error-for="form"]';
const SENT = { message: "验证码已发送", expires_in: 300, resend_after: 60 };
let mobileSeq = 0;

function freshMobile() {
  mobileSeq += 1;
  return `1390000${String(mobileSeq).padStart(4, "0")}`;
}

/** Intercepts `route` (a glob) with one answer; resolves the requests it saw. */
async function answer(page, glob, status, body, headers = {}) {
  const seen = [];
  await page.route(glob, (route) => {
    const request = route.request();
    seen.push({ method: request.method(), type: request.headers()["content-type"], body: request.postDataJSON() });
    return fulfillJson(route, status, body, headers);
  });
  return seen;
}

async function invalidFields(page) {
  return page.locator("[aria-invalid=true]").evaluateAll((els) => els.map((e) => e.id));
}

async function pageText(page) {
  return page.evaluate(() => document.body.innerText);
}

describe("send refusals on the register page", () => {
  const CASES = [
    {
      code: "sms_too_frequent",
      status: 429,
      retry_after: 42,
      message: "短信发送过于频繁，请42秒后再试",
      slot: "#sms_code-error",
      label: "42秒后可重新发送",
    },
    {
      code: "sms_daily_limit",
      status: 429,
      retry_after: 7200,
      message: "该手机号今日接收短信次数已达上限",
      slot: "#mobile-error",
      label: "2小时后可重新发送",
    },
    {
      code: "sms_ip_limit",
      status: 429,
      retry_after: 1800,
      message: "发送短信次数过多，请稍后再试",
      slot: "#sms_code-error",
      label: "30分钟后可重新发送",
    },
    // "Not now" refusals read 稍后再试 whatever the server's message says.
    { code: "sms_budget_exhausted", status: 503, message: "今日短信额度已用完", slot: "#sms_code-error", shows: "短信服务繁忙，请稍后再试" },
    // No captcha configured on the page: its field is hidden, so the form's slot says it.
    { code: "captcha_required", status: 400, message: "请先完成人机验证", slot: FORM_SLOT },
    { code: "captcha_failed", status: 400, message: "人机验证未通过", slot: FORM_SLOT },
    { code: "captcha_unavailable", status: 503, message: "验证服务不可用", slot: FORM_SLOT, shows: "人机验证服务暂不可用，请稍后再试" },
  ];
  for (const c of CASES) {
    test(`${c.status} ${c.code} shows under ${c.slot}${c.label ? ` and counts down as ${c.label}` : ""}`, async () => {
      const { page } = await suite.newPage();
      const body = { code: c.code, message: c.message, ...(c.retry_after ? { retry_after: c.retry_after } : {}) };
      const headers = c.retry_after ? { "retry-after": String(c.retry_after) } : {};
      const seen = await answer(page, "**/user/sms", c.status, body, headers);
      await page.goto(`${suite.api.base}/register.html`);
      await page.getByLabel("手机号码").fill(freshMobile());
      await page.locator("#send-sms").click();
      await page.locator(c.slot, { hasText: c.shows ?? c.message }).waitFor();
      assert.equal(seen.length, 1);
      assert.deepEqual(await invalidFields(page), [], "a refusal of the request marks no input invalid");
      const button = page.locator("#send-sms");
      if (c.label) {
        assert.equal(await button.textContent(), c.label);
        assert.equal(await button.isDisabled(), true);
      } else {
        assert.equal(await button.textContent(), "点击发送短信");
        assert.equal(await button.isEnabled(), true, "usable again: the refusal asks for no wait");
      }
    });
  }
});

describe("API Gateway's own 429 and other answers without retry_after", () => {
  const CASES = [
    { name: "API Gateway's throttle body, no Retry-After", status: 429, body: { message: "Too Many Requests" }, first: "60秒后可重新发送", seconds: 60 },
    { name: "a Retry-After header only", status: 429, body: { message: "Too Many Requests" }, headers: { "retry-after": "17" }, first: "17秒后可重新发送", seconds: 17 },
    { name: "a retry_after that is not a number", status: 429, body: { code: "sms_too_frequent", message: "短信发送过于频繁", retry_after: "soon" }, first: "60秒后可重新发送", seconds: 60 },
    { name: "a success without resend_after", status: 200, body: { message: "验证码已发送" }, first: "60秒后可重新发送", seconds: 60 },
  ];
  for (const c of CASES) {
    test(`${c.name}: the countdown starts at ${c.seconds} s, never shows NaN, and ends`, async () => {
      const { page } = await suite.newPage();
      await page.clock.install();
      await answer(page, "**/user/sms", c.status, c.body, c.headers);
      await page.goto(`${suite.api.base}/register.html`);
      await page.getByLabel("手机号码").fill(freshMobile());
      const button = page.locator("#send-sms");
      await button.click();
      await page.locator("#send-sms", { hasText: c.first }).waitFor();
      assert.equal(await button.isDisabled(), true);
      if (c.status === 429) {
        await page.locator("#sms_code-error", { hasText: c.body.code ? c.body.message : "请求过于频繁，请稍后再试" }).waitFor();
        assert.ok(!(await pageText(page)).includes("Too Many Requests"), "API Gateway's English is not shown");
      }
      await page.clock.runFor(1000);
      assert.equal(await button.textContent(), `${c.seconds - 1}秒后可重新发送`);
      for (let left = c.seconds - 1; left > 1; left -= 1) {
        await page.clock.runFor(1000);
        assert.doesNotMatch(await pageText(page), /NaN|undefined/);
      }
      await page.clock.runFor(1000);
      assert.equal(await button.textContent(), "点击发送短信");
      assert.equal(await button.isEnabled(), true);
    });
  }

  test("a throttled 注册 says 请求过于频繁，请稍后再试 above the button", async () => {
    const { page } = await suite.newPage();
    await answer(page, "**/user/register", 429, { message: "Too Many Requests" });
    await page.goto(`${suite.api.base}/register.html`);
    await page.getByLabel("手机号码").fill(freshMobile());
    await page.getByLabel("登录密码").fill("password123");
    await page.getByLabel("确认密码").fill("password123");
    await page.getByLabel("输入验证码").fill("123456");
    await page.getByRole("button", { name: "注册", exact: true }).click();
    await page.locator(FORM_SLOT, { hasText: "请求过于频繁，请稍后再试" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "注册", exact: true }).isEnabled(), true);
  });
});

describe("code and password refusals", () => {
  const SUBMIT = [
    { code: "too_many_attempts", message: "尝试次数过多，请10分钟后再试", slot: FORM_SLOT },
    { code: "sms_code_attempts_exceeded", message: "验证码错误次数过多，请明天再试", slot: "#sms_code-error" },
  ];
  for (const c of SUBMIT) {
    test(`注册 answered 429 ${c.code} shows under ${c.slot}`, async () => {
      const { page } = await suite.newPage();
      await answer(page, "**/user/register", 429, { code: c.code, message: c.message, retry_after: 600 });
      await page.goto(`${suite.api.base}/register.html`);
      await page.getByLabel("手机号码").fill(freshMobile());
      await page.getByLabel("登录密码").fill("password123");
      await page.getByLabel("确认密码").fill("password123");
      await page.getByLabel("输入验证码").fill("123456");
      await page.getByRole("button", { name: "注册", exact: true }).click();
      await page.locator(c.slot, { hasText: c.message }).waitFor();
      assert.deepEqual(await invalidFields(page), [], "the right code would be refused too: not the input's fault");
    });
  }

  test("password login answered 429 login_locked shows above 登录", async () => {
    const { page } = await suite.newPage();
    await answer(page, "**/user/login", 429, { code: "login_locked", message: "密码错误次数过多，请15分钟后再试", retry_after: 900 });
    await page.goto(`${suite.api.base}/login.html`);
    await page.getByLabel("手机号码").fill(freshMobile());
    await page.getByLabel("密码", { exact: true }).fill("password123");
    await page.getByRole("button", { name: "登录", exact: true }).click();
    await page.locator(FORM_SLOT, { hasText: "密码错误次数过多，请15分钟后再试" }).waitFor();
  });

  test("短信登录 for an unknown number shows 404 mobile_not_registered under the number", async () => {
    const { page } = await suite.newPage();
    const seen = await answer(page, "**/user/sms", 404, { code: "mobile_not_registered", message: "手机号尚未注册", field: "mobile" });
    await page.goto(`${suite.api.base}/login.html`);
    await page.getByRole("tab", { name: "短信登录" }).click();
    const mobile = freshMobile();
    await page.getByLabel("手机号码").fill(mobile);
    await page.locator("#send-sms").click();
    await page.locator("#mobile-error", { hasText: "手机号尚未注册" }).waitFor();
    assert.deepEqual(seen, [{ method: "POST", type: "application/json", body: { mobile, purpose: "login" } }]);
  });
});

describe("captcha widgets (local stand-ins for the providers' scripts)", () => {
  const EXPECTED = {
    geetest: { lot_number: "lot-1", captcha_output: "output-1", pass_token: "pass-1", gen_time: "1700000000" },
    turnstile: { token: "token-1" },
  };
  for (const provider of ["geetest", "turnstile"]) {
    test(`${provider}: the register page shows the widget and sends its result as "captcha", once`, async () => {
      const { page } = await suite.newPage();
      await useCaptcha(page, provider);
      const seen = await answer(page, "**/user/sms", 200, SENT);
      await page.goto(`${suite.api.base}/register.html`);
      await page.locator("#captcha-field").waitFor({ state: "visible" });
      await page.waitForFunction(() => window.__captcha && (window.__captcha.configs?.length || window.__captcha.renders?.length));
      const setup = await page.evaluate(() => ({ configs: window.__captcha.configs, renders: window.__captcha.renders }));
      if (provider === "geetest") assert.equal(setup.configs[0].captchaId, GEETEST_ID);
      else assert.deepEqual(setup.renders, [{ sitekey: TURNSTILE_KEY }]);

      const mobile = freshMobile();
      await page.getByLabel("手机号码").fill(mobile);
      await page.locator("#send-sms").click();
      await page.locator("#captcha-error", { hasText: "请先完成人机验证" }).waitFor();
      assert.equal(seen.length, 0, "nothing is sent before the captcha is passed");

      await passCaptcha(page);
      await page.locator("#send-sms").click();
      await page.locator("#send-sms", { hasText: "60秒后可重新发送" }).waitFor();
      assert.deepEqual(seen, [{ method: "POST", type: "application/json", body: { mobile, captcha: EXPECTED[provider] } }]);
      assert.equal(await page.evaluate(() => window.__captcha.resets), 1, "the used result is dropped");
      await page.locator("#register-status", { hasText: "验证码已发送" }).waitFor();
    });

    test(`${provider}: captcha_failed and captcha_unavailable show under the widget, which starts over`, async () => {
      const { page } = await suite.newPage();
      await useCaptcha(page, provider);
      let reply = { status: 400, body: { code: "captcha_failed", message: "人机验证未通过，请重试" } };
      const seen = [];
      await page.route("**/user/sms", (route) => {
        seen.push(route.request().postDataJSON());
        return fulfillJson(route, reply.status, reply.body);
      });
      await page.goto(`${suite.api.base}/register.html`);
      await page.locator("#captcha-field").waitFor({ state: "visible" });
      await page.getByLabel("手机号码").fill(freshMobile());
      await passCaptcha(page);
      await page.locator("#send-sms").click();
      await page.locator("#captcha-error", { hasText: "人机验证未通过，请重试" }).waitFor();
      assert.equal(await page.locator("#send-sms").isEnabled(), true);
      assert.equal(await page.evaluate(() => window.__captcha.resets), 1);
      // The failed result is not sent again: the widget has to be passed anew.
      await page.locator("#send-sms").click();
      await page.locator("#captcha-error", { hasText: "请先完成人机验证" }).waitFor();
      assert.equal(seen.length, 1);

      reply = { status: 503, body: { code: "captcha_unavailable", message: "captcha provider timeout" } };
      await passCaptcha(page);
      await page.locator("#send-sms").click();
      await page.locator("#captcha-error", { hasText: "人机验证服务暂不可用，请稍后再试" }).waitFor();
      assert.equal(seen.length, 2);
      assert.equal(seen[1].captcha[provider === "geetest" ? "pass_token" : "token"], provider === "geetest" ? "pass-2" : "token-2");
    });
  }

  test("turnstile on the 短信登录 tab: the send carries purpose login and the token", async () => {
    const { page } = await suite.newPage();
    await useCaptcha(page, "turnstile");
    const seen = await answer(page, "**/user/sms", 200, SENT);
    await page.goto(`${suite.api.base}/login.html`);
    await page.getByRole("tab", { name: "短信登录" }).click();
    await page.locator("#captcha-field").waitFor({ state: "visible" });
    const mobile = freshMobile();
    await page.getByLabel("手机号码").fill(mobile);
    await passCaptcha(page);
    await page.locator("#send-sms").click();
    await page.locator("#send-sms", { hasText: "60秒后可重新发送" }).waitFor();
    assert.deepEqual(seen, [{ method: "POST", type: "application/json", body: { mobile, purpose: "login", captcha: { token: "token-1" } } }]);
  });

  test("geetest on the reset page: the send carries purpose reset_password and the four fields", async () => {
    const { page } = await suite.newPage();
    await useCaptcha(page, "geetest");
    const seen = await answer(page, "**/user/sms", 200, SENT);
    await page.goto(`${suite.api.base}/reset.html`);
    await page.locator("#captcha-field").waitFor({ state: "visible" });
    const mobile = freshMobile();
    await page.getByLabel("手机号码").fill(mobile);
    await passCaptcha(page);
    await page.locator("#send-sms").click();
    await page.locator("#send-sms", { hasText: "60秒后可重新发送" }).waitFor();
    assert.deepEqual(seen, [
      { method: "POST", type: "application/json", body: { mobile, purpose: "reset_password", captcha: EXPECTED.geetest } },
    ]);
  });

  test("a widget script that fails to load says so, and nothing is sent", async () => {
    const opened = await suite.newPage();
    const { page } = opened;
    await useCaptcha(page, "geetest");
    await page.route((url) => url.href === GEETEST_SCRIPT, (route) => route.fulfill({ status: 503, body: "" }));
    const seen = await answer(page, "**/user/sms", 200, SENT);
    await page.goto(`${suite.api.base}/register.html`);
    await page.locator("#captcha-error", { hasText: "人机验证加载失败，请稍后再试" }).waitFor();
    await page.getByLabel("手机号码").fill(freshMobile());
    await page.locator("#send-sms").click();
    await page.locator("#captcha-error", { hasText: "人机验证加载失败，请稍后再试" }).waitFor();
    assert.equal(seen.length, 0);
    // The failed script load is this test's doing: Chromium logs it as a console error.
    const expected = (p) => p.startsWith("console: Failed to load resource") && p.includes("static.geetest.com");
    assert.equal(opened.problems.filter(expected).length, 1);
    opened.problems.splice(0, opened.problems.length, ...opened.problems.filter((p) => !expected(p)));
  });
});
