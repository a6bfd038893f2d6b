// URLs may carry credentials (https://user:token@host/...): text that is logged or shown never
// repeats them.
export function redactUrls(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}
