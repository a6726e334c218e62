// Where a logged-in user is remembered, under the original client's keys
// (user_token, user_id, user_name) so that the rest of the original site
// sees the login: sessionStorage by default (gone with the tab), localStorage
// when 记住我 is ticked. Only one of them holds it.
const KEYS = { token: "user_token", id: "user_id", username: "user_name" };
// The keys these pages used before; moved to the ones above on first load.
const OLD_KEYS = { token: "token", id: "id", username: "username" };

function stores() {
  return [sessionStorage, localStorage];
}

/** Moves a session saved under the old keys to the original client's keys. */
export function migrate() {
  for (const store of stores()) {
    if (store.getItem(OLD_KEYS.token) !== null && store.getItem(KEYS.token) === null) {
      for (const [field, key] of Object.entries(KEYS)) {
        const value = store.getItem(OLD_KEYS[field]);
        if (value !== null) store.setItem(key, value);
      }
    }
    for (const key of Object.values(OLD_KEYS)) store.removeItem(key);
  }
}

/** Keeps `session` ({ token, id, username } as the API answers it). */
export function save(session, remember = false) {
  const [keep, drop] = remember ? [localStorage, sessionStorage] : [sessionStorage, localStorage];
  for (const [field, key] of Object.entries(KEYS)) {
    drop.removeItem(key);
    keep.setItem(key, String(session[field]));
  }
}

/** The saved session, or null. */
export function current() {
  for (const store of stores()) {
    if (store.getItem(KEYS.token)) {
      return { token: store.getItem(KEYS.token), id: store.getItem(KEYS.id), username: store.getItem(KEYS.username) };
    }
  }
  return null;
}

/** Updates the stored username (the API's word on GET /user/me) wherever the session is. */
export function rename(username) {
  for (const store of stores()) {
    if (store.getItem(KEYS.token)) store.setItem(KEYS.username, username);
  }
}

export function clear() {
  for (const store of stores()) {
    for (const key of [...Object.values(KEYS), ...Object.values(OLD_KEYS)]) store.removeItem(key);
  }
}

migrate();
