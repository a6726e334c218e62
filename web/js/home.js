// Home: the header shows 登录 | 注册, or the user and 退出. A saved token is
// checked with GET /user/me on load; a refused one (401) ends the session.
import * as api from "./api.js";
import * as session from "./session.js";

const guest = document.querySelector("#guest-links");
const member = document.querySelector("#member-links");

function render() {
  const user = session.current();
  guest.hidden = Boolean(user);
  member.hidden = !user;
  document.querySelector("#username").textContent = user ? user.username : "";
}

async function verify() {
  const user = session.current();
  if (!user) return;
  const reply = await api.me(user.token);
  // The token may have changed meanwhile (退出, another tab): judge only the one asked about.
  if (session.current()?.token !== user.token) return;
  if (reply.ok && reply.body.username) {
    session.rename(reply.body.username);
  } else if (reply.status === 401) {
    session.clear();
  }
  // Anything else (the API unreachable or failing) says nothing about the
  // token: keep the session rather than log everyone out in an outage.
  render();
}

document.querySelector("#logout").addEventListener("click", () => {
  session.clear();
  render();
});

render();
// data-session-checked tells a test (or a script of the site) that the check is over.
verify().finally(() => (document.body.dataset.sessionChecked = "true"));
