import * as session from "./session.js";

const guest = document.querySelector("#guest-links");
const member = document.querySelector("#member-links");

function render() {
  const user = session.current();
  guest.hidden = Boolean(user);
  member.hidden = !user;
  if (user) document.querySelector("#username").textContent = user.username;
}

document.querySelector("#logout").addEventListener("click", () => {
  session.clear();
  render();
});

render();
