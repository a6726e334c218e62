// The pages of issue 12 that need no new backend route to be proved: the
// login tabs, the SMS-login and reset flows and GET /user/me with their
// answers intercepted, the original client's storage keys, links to files
// that exist, WCAG AA colour contrast, and JSON-only POSTs.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { browserSuite, codeFor, fulfillJson, ROOT, screenshot } from "./harness.mjs";

const suite = browserSuite();
const TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl";
const SESSION = { id: "42", username: "13800138000", token: TOKEN, expires_in: 7200 };
let mobileSeq = 0;

function freshMobile() {
  mobileSeq += 1;
  return `1360000${String(mobileSeq).padStart(4, "0")}`;
}

/** Every request to /user/*: method, path, content type, authorization and body. */
function recordApiCalls(page) {
  const calls = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith("/user/")) return;
    const headers = request.headers();
    calls.push({
      method: request.method(),
      path: url.pathname,
      type: headers["content-type"],
      authorization: headers.authorization,
      body: request.postData() ? JSON.parse(request.postData()) : undefined,
    });
  });
  return calls;
}

/** Intercepts `glob` with a fixed JSON answer. */
function answer(page, glob, status, body) {
  return page.route(glob, (route) => fulfillJson(route, status, body));
}

async function storage(page) {
  return page.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage } }));
}

describe("login page tabs", () => {
  test("短信登录 shows the code field and 点击发送短信; the arrow keys move between the tabs", async () => {
    const { page } = await suite.newPage();
    await page.goto(`${suite.api.base}/login.html`);
    const passwordTab = page.getByRole("tab", { name: "密码登录" });
    const smsTab = page.getByRole("tab", { name: "短信登录" });
    assert.equal(await passwordTab.getAttribute("aria-selected"), "true");
    assert.equal(await page.getByLabel("验证码").isVisible(), false);
    await smsTab.click();
    assert.equal(await smsTab.getAttribute("aria-selected"), "true");
    assert.equal(await page.getByLabel("验证码").isVisible(), true);
    assert.equal(await page.getByRole("button", { name: "点击发送短信" }).isVisible(), true);
    assert.equal(await page.getByLabel("密码", { exact: true }).isVisible(), false);
    await screenshot(page, "login-page-sms-tab");
    await smsTab.press("ArrowLeft");
    assert.equal(await passwordTab.getAttribute("aria-selected"), "true");
    assert.equal(await page.evaluate(() => document.activeElement.id), "tab-password");
    assert.equal(await page.getByLabel("密码", { exact: true }).isVisible(), true);
    await passwordTab.press("ArrowRight");
    assert.equal(await smsTab.getAttribute("aria-selected"), "true");
  });

  test("忘记密码 leads to reset.html, and 返回登录 back", async () => {
    const { page } = await suite.newPage();
    await page.goto(`${suite.api.base}/login.html`);
    await page.getByRole("link", { name: "忘记密码" }).click();
    await page.waitForURL(`${suite.api.base}/reset.html`);
    assert.equal(await page.title(), "重置密码 - 路飞学城");
    await page.getByRole("link", { name: "返回登录" }).click();
    await page.waitForURL(`${suite.api.base}/login.html`);
  });
});

describe("small screens", () => {
  for (const path of ["/login.html", "/login.html#sms", "/reset.html"]) {
    test(`${path} fits a 375 px phone screen`, async () => {
      const { page } = await suite.newPage({ width: 375, height: 740 });
      await page.goto(`${suite.api.base}${path}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
      const button = await page.locator(path === "/login.html" ? "#password" : "#send-sms").boundingBox();
      assert.ok(button.x + button.width <= 375, "the field or button is on screen");
    });
  }
});

describe("new flows with their answers intercepted", () => {
  test("短信登录: purpose login, then POST /user/login/sms, then home with the user", async () => {
    const { page } = await suite.newPage();
    const calls = recordApiCalls(page);
    await answer(page, "**/user/sms", 200, { message: "验证码已发送", expires_in: 300, resend_after: 60 });
    await answer(page, "**/user/login/sms", 200, SESSION);
    await answer(page, "**/user/me", 200, { id: "42", username: SESSION.username, mobile: "138****8000" });
    await page.goto(`${suite.api.base}/login.html`);
    await page.getByRole("tab", { name: "短信登录" }).click();
    await page.getByLabel("手机号码").fill(SESSION.username);
    await page.getByRole("button", { name: "点击发送短信" }).click();
    await page.locator("#send-sms", { hasText: "60秒后可重新发送" }).waitFor();
    await page.getByLabel("验证码").fill("123456");
    await page.getByRole("button", { name: "登录", exact: true }).click();
    await page.waitForURL(`${suite.api.base}/`);
    await page.locator("body[data-session-checked]").waitFor({ state: "attached" });
    await page.locator("#username", { hasText: SESSION.username }).waitFor();
    assert.deepEqual(
      calls.map(({ method, path, type, body }) => ({ method, path, type, body })),
      [
        { method: "POST", path: "/user/sms", type: "application/json", body: { mobile: SESSION.username, purpose: "login" } },
        { method: "POST", path: "/user/login/sms", type: "application/json", body: { mobile: SESSION.username, sms_code: "123456" } },
        { method: "GET", path: "/user/me", type: undefined, body: undefined },
      ],
    );
    assert.equal(calls[2].authorization, `Bearer ${TOKEN}`);
    assert.deepEqual((await storage(page)).session, { user_token: TOKEN, user_id: "42", user_name: SESSION.username });
  });

  test("reset: purpose reset_password, the new password twice, then home logged in", async () => {
    const { page } = await suite.newPage();
    const calls = recordApiCalls(page);
    await answer(page, "**/user/sms", 200, { message: "验证码已发送", expires_in: 300, resend_after: 60 });
    await answer(page, "**/user/password/reset", 200, SESSION);
    await answer(page, "**/user/me", 200, { id: "42", username: SESSION.username, mobile: "138****8000" });
    await page.goto(`${suite.api.base}/reset.html`);
    await page.getByLabel("手机号码").fill(SESSION.username);
    await page.getByRole("button", { name: "点击发送短信" }).click();
    await page.locator("#send-sms", { hasText: "60秒后可重新发送" }).waitFor();
    await page.getByLabel("验证码").fill("654321");
    await page.getByLabel("新密码", { exact: true }).fill("new-password-1");
    await page.getByLabel("确认新密码").fill("new-password-1");
    await page.getByRole("button", { name: "重置密码" }).click();
    await page.getByText("密码已重置，已为你登录").waitFor();
    await page.waitForURL(`${suite.api.base}/`);
    await page.locator("#username", { hasText: SESSION.username }).waitFor();
    assert.deepEqual(
      calls.slice(0, 2).map(({ path, type, body }) => ({ path, type, body })),
      [
        { path: "/user/sms", type: "application/json", body: { mobile: SESSION.username, purpose: "reset_password" } },
        {
          path: "/user/password/reset",
          type: "application/json",
          body: { mobile: SESSION.username, sms_code: "654321", password: "new-password-1", password2: "new-password-1" },
        },
      ],
    );
    assert.equal((await storage(page)).session.user_token, TOKEN);
  });

  test("reset refusals show under their fields and log nobody in", async () => {
    const { page } = await suite.newPage();
    await answer(page, "**/user/password/reset", 400, { code: "password_mismatch", message: "两次输入的密码不一致", field: "password2" });
    await page.goto(`${suite.api.base}/reset.html`);
    await page.getByLabel("手机号码").fill(freshMobile());
    await page.getByLabel("验证码").fill("654321");
    await page.getByLabel("新密码", { exact: true }).fill("new-password-1");
    await page.getByLabel("确认新密码").fill("new-password-2");
    await page.getByRole("button", { name: "重置密码" }).click();
    await page.locator("#password2-error", { hasText: "两次输入的密码不一致" }).waitFor();
    assert.equal(await page.getByLabel("确认新密码").getAttribute("aria-invalid"), "true");
    assert.deepEqual(await storage(page), { session: {}, local: {} });
  });
});

describe("home and the session", () => {
  async function homeWith(page, saved, me) {
    await page.goto(`${suite.api.base}/login.html`);
    await page.evaluate((saved) => {
      for (const [store, items] of Object.entries(saved)) {
        for (const [key, value] of Object.entries(items)) (store === "local" ? localStorage : sessionStorage).setItem(key, value);
      }
    }, saved);
    const calls = recordApiCalls(page);
    if (me) await answer(page, "**/user/me", me.status, me.body);
    await page.goto(`${suite.api.base}/`);
    await page.locator("body[data-session-checked]").waitFor({ state: "attached" });
    return calls;
  }

  test("a token GET /user/me refuses (401) is cleared and 登录 | 注册 shows again", async () => {
    const { page } = await suite.newPage();
    const calls = await homeWith(
      page,
      { local: { user_token: TOKEN, user_id: "42", user_name: "13800138000" } },
      { status: 401, body: { code: "invalid_token", message: "登录已失效，请重新登录" } },
    );
    assert.deepEqual(calls.map((c) => [c.method, c.path, c.authorization]), [["GET", "/user/me", `Bearer ${TOKEN}`]]);
    assert.equal(await page.getByRole("link", { name: "登录" }).isVisible(), true);
    assert.equal(await page.getByRole("link", { name: "注册" }).isVisible(), true);
    assert.equal(await page.getByRole("button", { name: "退出" }).isVisible(), false);
    assert.deepEqual(await storage(page), { session: {}, local: {} });
  });

  test("a token GET /user/me accepts shows the API's username", async () => {
    const { page } = await suite.newPage();
    await homeWith(
      page,
      { session: { user_token: TOKEN, user_id: "42", user_name: "stale-name" } },
      { status: 200, body: { id: "42", username: "13800138000", mobile: "138****8000" } },
    );
    await page.locator("#username", { hasText: "13800138000" }).waitFor();
    assert.equal((await storage(page)).session.user_name, "13800138000");
  });

  test("an API that is down (503) logs nobody out", async () => {
    const { page } = await suite.newPage();
    await homeWith(
      page,
      { session: { user_token: TOKEN, user_id: "42", user_name: "13800138000" } },
      { status: 503, body: { code: "service_unavailable", message: "服务暂时不可用，请稍后重试" } },
    );
    assert.equal(await page.locator("#username").textContent(), "13800138000");
    assert.equal((await storage(page)).session.user_token, TOKEN);
  });

  test("a session under the old keys (token, id, username) moves to user_token, user_id, user_name", async () => {
    const { page } = await suite.newPage();
    const calls = await homeWith(
      page,
      { local: { token: TOKEN, id: "42", username: "13800138000" } },
      { status: 200, body: { id: "42", username: "13800138000", mobile: "138****8000" } },
    );
    assert.deepEqual(await storage(page), {
      session: {},
      local: { user_token: TOKEN, user_id: "42", user_name: "13800138000" },
    });
    assert.equal(calls[0].authorization, `Bearer ${TOKEN}`);
    await page.locator("#username", { hasText: "13800138000" }).waitFor();
  });

  test("no saved session: no GET /user/me, and 登录 | 注册", async () => {
    const { page } = await suite.newPage();
    const calls = await homeWith(page, {}, null);
    assert.deepEqual(calls, []);
    assert.equal(await page.getByRole("link", { name: "登录" }).isVisible(), true);
  });
});

describe("links and requests", () => {
  test("every link of every page points to a file under web/ that the server serves", async () => {
    const { page } = await suite.newPage();
    const checked = new Set();
    for (const start of ["/", "/register.html", "/login.html", "/reset.html"]) {
      await page.goto(suite.api.base + start);
      const hrefs = await page.locator("a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
      assert.ok(hrefs.length > 0, `${start} has links`);
      for (const href of hrefs) {
        const file = href === "/" ? "index.html" : href.replace(/^\//, "");
        assert.match(file, /^[a-z]+\.html$/, `${start}: ${href} names a file, not a route only the local API knows`);
        assert.ok(existsSync(path.join(ROOT, "web", file)), `${start}: ${href}: web/${file} exists`);
        if (checked.has(href)) continue;
        checked.add(href);
        const response = await fetch(new URL(href, suite.api.base));
        assert.equal(response.status, 200, `${href} is served`);
        assert.match(response.headers.get("content-type"), /^text\/html/);
      }
    }
    assert.deepEqual([...checked].sort(), ["/", "/login.html", "/register.html", "/reset.html"]);
  });

  test("the register flow POSTs JSON only and never uses the GET /user/sms/{mobile} alias", async () => {
    const { page } = await suite.newPage();
    const calls = recordApiCalls(page);
    const mobile = freshMobile();
    await page.goto(`${suite.api.base}/register.html`);
    await page.getByLabel("手机号码").fill(mobile);
    await page.getByLabel("登录密码").fill("password123");
    await page.getByLabel("确认密码").fill("password123");
    await page.getByRole("button", { name: "点击发送短信" }).click();
    await page.getByText("验证码已发送，请注意查收").waitFor();
    await page.getByLabel("输入验证码").fill(await codeFor(suite.api, mobile));
    await page.getByRole("button", { name: "注册", exact: true }).click();
    await page.waitForURL(`${suite.api.base}/`);
    await page.locator("body[data-session-checked]").waitFor({ state: "attached" });
    const posts = calls.filter((c) => c.method === "POST");
    assert.deepEqual(posts.map((c) => [c.path, c.type]), [
      ["/user/sms", "application/json"],
      ["/user/register", "application/json"],
    ]);
    assert.deepEqual(calls.filter((c) => c.method === "GET" && c.path.startsWith("/user/sms")), []);
  });
});

describe("colour contrast (WCAG AA)", () => {
  // Computed in the page: every visible element with its own text (and each
  // input's placeholder), its colour composited over the first opaque
  // background behind it (every stop of a gradient counts), against 4.5:1.
  function measure() {
    const parse = (css) => {
      const m = css.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const over = (top, under) => ({
      r: top.r * top.a + under.r * (1 - top.a),
      g: top.g * top.a + under.g * (1 - top.a),
      b: top.b * top.a + under.b * (1 - top.a),
      a: 1,
    });
    const luminance = ({ r, g, b }) =>
      [r, g, b]
        .map((v) => v / 255)
        .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
        .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
    const ratio = (x, y) => {
      const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
      return (hi + 0.05) / (lo + 0.05);
    };
    // The backgrounds behind `el`: one colour, or each stop of a gradient.
    const backgrounds = (el) => {
      const layers = [];
      for (let node = el; node; node = node.parentElement) {
        const style = getComputedStyle(node);
        const colour = parse(style.backgroundColor);
        const stops = [...style.backgroundImage.matchAll(/rgba?\([^)]+\)/g)].map((s) => parse(s[0])).filter((s) => s.a === 1);
        if (stops.length) return stops.map((stop) => layers.reduceRight((acc, layer) => over(layer, acc), stop));
        if (colour && colour.a > 0) {
          if (colour.a === 1) return [layers.reduceRight((acc, layer) => over(layer, acc), colour)];
          layers.push(colour);
        }
      }
      return [layers.reduceRight((acc, layer) => over(layer, acc), { r: 255, g: 255, b: 255, a: 1 })];
    };
    const opacity = (el) => {
      let o = 1;
      for (let node = el; node; node = node.parentElement) o *= Number(getComputedStyle(node).opacity);
      return o;
    };
    const visible = (el) => {
      const box = el.getBoundingClientRect();
      return box.width > 1 && box.height > 1 && getComputedStyle(el).visibility !== "hidden" && el.checkVisibility();
    };
    const describe = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") + (el.className ? `.${String(el.className).split(" ").join(".")}` : "");
    const results = [];
    const check = (el, colourCss, what) => {
      const fg = parse(colourCss);
      const alpha = fg.a * opacity(el);
      for (const bg of backgrounds(el)) {
        const text = over({ ...fg, a: alpha }, bg);
        results.push({ element: `${describe(el)} ${what}`, colour: colourCss, background: `rgb(${bg.r}, ${bg.g}, ${bg.b})`, ratio: ratio(text, bg) });
      }
    };
    for (const el of document.querySelectorAll("body *")) {
      if (!visible(el)) continue;
      const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
      if (ownText) check(el, getComputedStyle(el).color, `"${el.textContent.trim().slice(0, 12)}"`);
      if (el instanceof HTMLInputElement && el.placeholder) check(el, getComputedStyle(el, "::placeholder").color, "placeholder");
    }
    return results;
  }

  const STATES = [
    { name: "register", path: "/register.html" },
    { name: "register, counting down", path: "/register.html", prepare: () => {
      const b = document.querySelector("#send-sms");
      b.disabled = true;
      b.textContent = "59秒后可重新发送";
    } },
    { name: "login, 密码登录", path: "/login.html" },
    { name: "login, 短信登录", path: "/login.html#sms" },
    { name: "reset", path: "/reset.html" },
    { name: "home, guest", path: "/" },
    { name: "home, member", path: "/", member: true },
  ];

  test("every text and button colour of every page has a contrast of at least 4.5:1", async () => {
    const { page } = await suite.newPage();
    await answer(page, "**/user/me", 200, { id: "42", username: "13800138000", mobile: "138****8000" });
    const failures = [];
    const lowest = [];
    for (const state of STATES) {
      await page.goto(`${suite.api.base}/login.html`);
      await page.evaluate((member) => {
        sessionStorage.clear();
        if (member) {
          sessionStorage.setItem("user_token", "t");
          sessionStorage.setItem("user_id", "42");
          sessionStorage.setItem("user_name", "13800138000");
        }
      }, Boolean(state.member));
      await page.goto(`${suite.api.base}${state.path}`);
      if (state.path === "/login.html#sms") await page.reload();
      if (state.member) await page.locator("#username", { hasText: "13800138000" }).waitFor();
      // Error and status slots are empty until something happens: give them text.
      await page.evaluate(() => {
        for (const slot of document.querySelectorAll(".error, .status")) slot.textContent = "示例提示文字";
      });
      if (state.prepare) await page.evaluate(state.prepare);
      const results = await page.evaluate(measure);
      assert.ok(results.length >= 5, `${state.name}: measured ${results.length} texts`);
      const worst = results.reduce((a, b) => (a.ratio <= b.ratio ? a : b));
      lowest.push(`${state.name}: ${results.length} texts, lowest ${worst.ratio.toFixed(2)}:1 (${worst.element} ${worst.colour} on ${worst.background})`);
      failures.push(...results.filter((r) => r.ratio < 4.5).map((r) => ({ state: state.name, ...r, ratio: Number(r.ratio.toFixed(2)) })));
    }
    console.log(`contrast:\n  ${lowest.join("\n  ")}`);
    assert.deepEqual(failures, [], "texts under 4.5:1");
  });

  test("the keyboard focus ring has at least 3:1 against the white card", async () => {
    const { page } = await suite.newPage();
    await page.goto(`${suite.api.base}/register.html`);
    await page.getByLabel("输入验证码").focus();
    await page.keyboard.press("Tab");
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement);
      return { id: document.activeElement.id, colour: style.outlineColor, style: style.outlineStyle };
    });
    assert.equal(outline.id, "send-sms");
    assert.equal(outline.style, "solid");
    const [r, g, b] = outline.colour.match(/\d+/g).map(Number);
    const lum = [r, g, b].map((v) => v / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    const l = lum[0] * 0.2126 + lum[1] * 0.7152 + lum[2] * 0.0722;
    const contrast = 1.05 / (l + 0.05);
    assert.ok(contrast >= 3, `focus ring ${outline.colour}: ${contrast.toFixed(2)}:1`);
  });
});
