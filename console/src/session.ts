// The token of this tab's session: sessionStorage, so it goes with the tab and is never shared
// with other tabs or kept on disk after the browser closes.
const KEY = 'pennon.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
