// The register, login and home pages end to end in headless Chromium,
// against the real local API (memory store, log SMS backend with an outbox).
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { codeFor, launchBrowser, openPage, postJson, registerViaApi, screenshot, SCREENSHOTS, startApi } from "./harness.mjs";

const PASSWORD = "password123";
let api;
let browser;
let open = [];
let mobileSeq = 0;

/** A mobile no other test uses. */
function freshMobile() {
  mobileSeq += 1;
  return `1370000${String(mobileSeq).padStart(4, "0")}`;
}

/** Fills the register form; fields left out stay empty. */
async function fillRegister(page, { mobile, password, password2, code }) {
  if (mobile !== undefined) await page.getByLabel("手机号码").fill(mobile);
  if (password !== undefined) await page.getByLabel("登录密码").fill(password);
  if (password2 !== undefined) await page.getByLabel("确认密码").fill(password2);
  if (code !== undefined) await page.getByLabel("输入验证码").fill(code);
}

/** Opens the login page and submits `mobile` and `password`. */
async function submitLogin(page, mobile, password, { remember = false } = {}) {
  await page.goto(`${api.base}/login`);
  await page.getByLabel("手机号码").fill(mobile);
  await page.getByLabel("密码", { exact: true }).fill(password);
  if (remember) await page.getByLabel("记住我").check();
  await page.getByRole("button", { name: "登录", exact: true }).click();
}

async function newPage(viewport) {
  const opened = await openPage(browser, viewport);
  open.push(opened);
  return opened;
}

before(async () => {
  // A short interval so the countdown test can watch it end.
  api = await startApi({ SMS_RESEND_INTERVAL_SECONDS: "3" });
  browser = await launchBrowser();
});

afterEach(async (t) => {
  const pages = open;
  open = [];
  const problems = [];
  for (const opened of pages) {
    await screenshot(opened.page, t.name.replace(/[^\w一-龥]+/g, "-").slice(0, 80)).catch(() => {});
    await opened.context.close();
    problems.push(...opened.problems);
  }
  assert.deepEqual(problems, [], "no console errors, page errors or dialogs");
});

after(async () => {
  await browser?.close();
  api?.stop();
  console.log(`screenshots: ${SCREENSHOTS}`);
});

describe("register page", () => {
  test("full register flow ends on the home page showing the username", async () => {
    const { page } = await newPage();
    const mobile = freshMobile();
    await page.goto(`${api.base}/register`);
    assert.equal(await page.title(), "注册 - 路飞学城");
    await screenshot(page, "register-page");
    await fillRegister(page, { mobile, password: PASSWORD, password2: PASSWORD });
    await page.getByRole("button", { name: "点击发送短信" }).click();
    await page.getByText("验证码已发送，请注意查收").waitFor();
    await page.getByLabel("输入验证码").fill(await codeFor(api, mobile));
    await page.getByRole("button", { name: "注册", exact: true }).click();
    await page.getByText("注册成功").waitFor();
    await page.waitForURL(`${api.base}/`);
    await page.locator("#username", { hasText: mobile }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("user_name")), mobile);
    assert.ok((await page.evaluate(() => sessionStorage.getItem("user_token"))).split(".").length === 3);
    assert.ok(await page.evaluate(() => sessionStorage.getItem("user_id")));
    assert.equal(await page.evaluate(() => localStorage.getItem("user_token")), null);
  });

  test("a registered mobile shows 手机号已经被注册过 next to the field on blur", async () => {
    const mobile = freshMobile();
    await registerViaApi(api, mobile, PASSWORD);
    const { page } = await newPage();
    await page.goto(`${api.base}/register`);
    await page.getByLabel("手机号码").fill(mobile);
    await page.getByLabel("登录密码").focus();
    await page.locator("#mobile-error", { hasText: "手机号已经被注册过" }).waitFor();
    assert.equal(await page.getByLabel("手机号码").getAttribute("aria-invalid"), "true");
  });

  test("a malformed mobile shows 手机号码格式有误 on blur and sends nothing", async () => {
    const { page } = await newPage();
    await page.goto(`${api.base}/register`);
    await page.getByLabel("手机号码").fill("1380013");
    await page.getByLabel("登录密码").focus();
    await page.locator("#mobile-error", { hasText: "手机号码格式有误" }).waitFor();
    await page.getByRole("button", { name: "点击发送短信" }).click();
    assert.equal(await page.getByRole("button", { name: "点击发送短信" }).isEnabled(), true);
  });

  test("the send button counts down disabled, then re-enables at zero", async () => {
    const { page } = await newPage();
    await page.goto(`${api.base}/register`);
    await page.getByLabel("手机号码").fill(freshMobile());
    const button = page.locator("#send-sms");
    await button.click();
    await page.locator("#send-sms", { hasText: /^\d+秒后可重新发送$/ }).waitFor();
    assert.equal(await button.isDisabled(), true);
    await page.locator("#send-sms", { hasText: "点击发送短信" }).waitFor({ timeout: 6_000 });
    assert.equal(await button.isEnabled(), true);
  });

  test("a 429 starts the countdown from retry_after", async () => {
    const mobile = freshMobile();
    const sent = await postJson(api, "/user/sms", { mobile });
    assert.equal(sent.status, 200);
    const { page } = await newPage();
    await page.goto(`${api.base}/register`);
    await page.getByLabel("手机号码").fill(mobile);
    await page.locator("#send-sms").click();
    const label = page.locator("#send-sms", { hasText: /^[1-3]秒后可重新发送$/ });
    await label.waitFor();
    assert.equal(await page.locator("#send-sms").isDisabled(), true);
    await page.locator("#sms_code-error", { hasText: "短信发送过于频繁" }).waitFor();
    assert.equal(await page.getByLabel("输入验证码").getAttribute("aria-invalid"), null, "too soon is not a wrong code");
  });

  test("a wrong code is shown next to the code field and the button is usable again", async () => {
    const { page } = await newPage();
    const mobile = freshMobile();
    await page.goto(`${api.base}/register`);
    await fillRegister(page, { mobile, password: PASSWORD, password2: PASSWORD });
    await page.locator("#send-sms").click();
    const code = await codeFor(api, mobile);
    await page.getByLabel("输入验证码").fill(code === "000000" ? "111111" : "000000");
    const submit = page.getByRole("button", { name: "注册", exact: true });
    await submit.click();
    await page.locator("#sms_code-error", { hasText: "验证码错误或已过期" }).waitFor();
    assert.equal(await submit.isEnabled(), true);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("user_token")), null);
  });

  test("注册 is disabled while its request is in flight", async () => {
    const { page } = await newPage();
    let release;
    const held = new Promise((resolve) => (release = resolve));
    // Hold the register request until the test has looked at the button.
    await page.route("**/user/register", async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${api.base}/register`);
    await fillRegister(page, { mobile: freshMobile(), password: PASSWORD, password2: PASSWORD, code: "123456" });
    const submit = page.getByRole("button", { name: "注册", exact: true });
    await submit.click();
    assert.equal(await submit.isDisabled(), true, "disabled while the request is held");
    release();
    await page.locator("#sms_code-error", { hasText: "验证码错误或已过期" }).waitFor();
    assert.equal(await submit.isEnabled(), true, "usable again once answered");
  });

  test("differing passwords are shown next to 确认密码", async () => {
    const { page } = await newPage();
    const mobile = freshMobile();
    await page.goto(`${api.base}/register`);
    await fillRegister(page, { mobile, password: PASSWORD, password2: "password321", code: "123456" });
    await page.getByRole("button", { name: "注册", exact: true }).click();
    await page.locator("#password2-error", { hasText: "两次输入的密码不一致" }).waitFor();
  });

  test("fits a 375 px phone screen and works from the keyboard alone", async () => {
    const { page } = await newPage({ width: 375, height: 740 });
    await page.goto(`${api.base}/register`);
    await screenshot(page, "register-page-375px");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    const order = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press("Tab");
      order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.textContent.trim()));
    }
    assert.deepEqual(order, ["mobile", "password", "password2", "sms_code", "send-sms", "注册", "直接登录"]);
    // Enter in a field submits the form: the API answers with a field error.
    await page.getByLabel("手机号码").fill("123");
    await page.getByLabel("手机号码").press("Enter");
    await page.locator("#mobile-error", { hasText: "手机号码格式有误" }).waitFor();
  });

  test("已有账号 直接登录 leads to the login page", async () => {
    const { page } = await newPage();
    await page.goto(`${api.base}/register`);
    await page.getByRole("link", { name: "直接登录" }).click();
    await page.waitForURL(`${api.base}/login.html`);
  });
});

describe("login and home pages", () => {
  test("login, then 退出 logs out", async () => {
    const mobile = freshMobile();
    await registerViaApi(api, mobile, PASSWORD);
    const { page } = await newPage();
    await submitLogin(page, mobile, PASSWORD);
    await page.waitForURL(`${api.base}/`);
    await page.locator("#username", { hasText: mobile }).waitFor();
    assert.equal(await page.getByRole("link", { name: "登录" }).isVisible(), false);
    await page.getByRole("button", { name: "退出" }).click();
    await page.getByRole("link", { name: "登录" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("user_token") ?? localStorage.getItem("user_token")), null);
  });

  test("记住我 keeps the token in localStorage across a new tab", async () => {
    const mobile = freshMobile();
    await registerViaApi(api, mobile, PASSWORD);
    const { page, context } = await newPage();
    await submitLogin(page, mobile, PASSWORD, { remember: true });
    await page.waitForURL(`${api.base}/`);
    assert.ok(await page.evaluate(() => localStorage.getItem("user_token")));
    assert.equal(await page.evaluate(() => sessionStorage.getItem("user_token")), null);
    const second = await context.newPage();
    await second.goto(`${api.base}/`);
    await second.locator("#username", { hasText: mobile }).waitFor();
    await second.close();
  });

  test("a wrong password says 用户名或密码错误 and stores nothing", async () => {
    const mobile = freshMobile();
    await registerViaApi(api, mobile, PASSWORD);
    const { page } = await newPage();
    await submitLogin(page, mobile, "not-the-password");
    await page.getByText("用户名或密码错误").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("user_token") ?? localStorage.getItem("user_token")), null);
  });

  test("the home header's 登录 and 注册 lead to their pages, and 立即注册 back", async () => {
    const { page } = await newPage();
    await page.goto(`${api.base}/`);
    await page.getByRole("link", { name: "登录" }).click();
    await page.waitForURL(`${api.base}/login.html`);
    await page.getByRole("link", { name: "立即注册" }).click();
    await page.waitForURL(`${api.base}/register.html`);
    await page.goto(`${api.base}/`);
    await page.getByRole("link", { name: "注册" }).click();
    await page.waitForURL(`${api.base}/register.html`);
  });
});
