// The Content-Security-Policy of every page the app shows: its own scripts only, no plugins, no
// framing, no base-URL tricks. Inline styles stay allowed (MUI's emotion writes <style> tags).
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')
