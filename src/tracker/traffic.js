/*! traffic.js: one visit per page load to the traffic agent. <script defer src=".../traffic.js"></script>
 * data-endpoint: where to send (default: the origin the script came from); data-gpc="ignore": count
 * visitors whose browser sends Global Privacy Control (left out by default); window.trafficOptOut or
 * localStorage.trafficOptOut = "1": the site opts this visitor out. */
((w, d, n) => {
  const optedOut = (s) => {
    if (w.trafficOptOut || (n.globalPrivacyControl && s.getAttribute('data-gpc') !== 'ignore')) return true;
    try {
      return w.localStorage.getItem('trafficOptOut') === '1';
    } catch {
      return false; // storage blocked: no opt-out recorded
    }
  };
  try {
    const s = d.currentScript;
    if (!s || optedOut(s)) return;
    const to = s.getAttribute('data-endpoint') || `${new URL(s.src).origin}/`;
    const r = d.referrer;
    // A visit from another site is a referrer visit; a reload or an internal link is not.
    const visit = r && new URL(r).hostname !== w.location.hostname ? { type: 'referrer', url: r } : { type: 'type-in' };
    const body = JSON.stringify(visit);
    if (!n.sendBeacon?.(to, body)) w.fetch(to, { method: 'POST', body, keepalive: true, mode: 'no-cors', credentials: 'omit' }).catch(() => {});
  } catch {
    // Never into the page.
  }
})(window, document, navigator);
