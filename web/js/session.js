// Where a logged-in user is remembered: sessionStorage by default (gone with
// the tab), localStorage when 记住我 is ticked. Only one of them holds it.
const KEYS = ["token", "id", "username"];

export function save(session, remember = false) {
  const [keep, drop] = remember ? [localStorage, sessionStorage] : [sessionStorage, localStorage];
  for (const key of KEYS) {
    drop.removeItem(key);
    keep.setItem(key, session[key]);
  }
}

export function current() {
  for (const store of [sessionStorage, localStorage]) {
    if (store.getItem("token")) {
      return { token: store.getItem("token"), id: store.getItem("id"), username: store.getItem("username") };
    }
  }
  return null;
}

export function clear() {
  for (const store of [sessionStorage, localStorage]) {
    for (const key of KEYS) store.removeItem(key);
  }
}
