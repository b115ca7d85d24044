/// The console's script and styles: plain files served as they are (no build step, nothing from a CDN).
enum ConsoleAssets {
    /// Asks for the token once per tab (sessionStorage), sends it as a bearer header on every call,
    /// polls the page's fragment, and turns buttons into POSTs. No cookies are used.
    static let script = #"""
        (() => {
          'use strict';
          const KEY = 'broadcast.console.token';
          const body = document.body;
          const view = document.getElementById('view');
          const login = document.getElementById('login');
          const form = document.getElementById('login-form');
          const input = document.getElementById('token');
          const loginError = document.getElementById('login-error');
          const who = document.getElementById('who');
          const signout = document.getElementById('signout');
          const updated = document.getElementById('updated');
          const notice = document.getElementById('notice');
          const refresh = Number(body.dataset.refresh) || 2000;
          let timer = null;

          const token = () => sessionStorage.getItem(KEY);

          function showLogin(message) {
            clearTimeout(timer);
            sessionStorage.removeItem(KEY);
            login.hidden = false;
            view.hidden = true;
            signout.hidden = true;
            who.textContent = '';
            loginError.textContent = message || '';
            input.focus();
          }

          function say(text, isError) {
            notice.textContent = text;
            notice.className = isError ? 'error' : 'ok';
            notice.hidden = false;
          }

          async function api(path, options) {
            const init = Object.assign({ cache: 'no-store', credentials: 'omit' }, options || {});
            init.headers = Object.assign({ 'Authorization': 'Bearer ' + token() }, init.headers || {});
            const response = await fetch(path, init);
            if (response.status === 401) {
              showLogin('That token was not accepted.');
              throw new Error('unauthorized');
            }
            return response;
          }

          async function errorText(response) {
            try {
              const answer = await response.json();
              return (answer.error && answer.error.message) || response.statusText;
            } catch (e) {
              return response.status + ' ' + response.statusText;
            }
          }

          async function load() {
            clearTimeout(timer);
            try {
              const response = await api(body.dataset.fragment);
              if (response.ok) {
                view.innerHTML = await response.text();
                updated.textContent = 'Updated ' + new Date().toLocaleTimeString() + ' · refreshes every ' + (refresh / 1000) + ' s';
              } else {
                const message = document.createElement('p');
                message.className = 'error';
                message.textContent = await errorText(response);
                view.replaceChildren(message);
              }
            } catch (e) {
              if (e.message === 'unauthorized') return;
              updated.textContent = 'Update failed (' + e.message + '); retrying';
            }
            if (token()) timer = setTimeout(load, refresh);
          }

          async function start() {
            login.hidden = true;
            view.hidden = false;
            signout.hidden = false;
            try {
              const response = await api('/api/v1/me');
              if (!response.ok) { showLogin(await errorText(response)); return; }
              const me = await response.json();
              who.textContent = me.name + ' · ' + me.role + (me.userId ? ' · user ' + me.userId : '');
              body.dataset.role = me.role;
            } catch (e) {
              if (e.message !== 'unauthorized') showLogin('The console cannot be reached: ' + e.message);
              return;
            }
            load();
          }

          form.addEventListener('submit', (event) => {
            event.preventDefault();
            const value = input.value.trim();
            input.value = '';
            if (!value) return;
            sessionStorage.setItem(KEY, value);
            start();
          });

          signout.addEventListener('click', () => showLogin(''));

          document.addEventListener('click', async (event) => {
            const button = event.target.closest('button[data-action], button[data-replay], button[data-download]');
            if (!button || button.disabled) return;
            try {
              if (button.dataset.download) {
                const response = await api(button.dataset.download);
                if (!response.ok) { say(await errorText(response), true); return; }
                const url = URL.createObjectURL(await response.blob());
                const link = document.createElement('a');
                link.href = url;
                link.download = button.dataset.filename || 'report.csv';
                document.body.appendChild(link);
                link.click();
                link.remove();
                setTimeout(() => URL.revokeObjectURL(url), 10000);
                return;
              }
              let path;
              if (button.dataset.action) {
                const action = button.dataset.action;
                if (action === 'cancel' && !window.confirm('Cancel campaign ' + button.dataset.campaign + '? Messages not yet sent will be skipped.')) return;
                path = '/api/v1/campaigns/' + encodeURIComponent(button.dataset.campaign) + '/' + action;
              } else {
                path = '/api/v1/dead-letters/' + button.dataset.replay + '/replay';
              }
              button.disabled = true;
              const response = await api(path, { method: 'POST' });
              if (response.ok) {
                say(button.dataset.action ? button.dataset.action + ' sent to every worker' : 'dead letter replayed', false);
              } else {
                say(await errorText(response), true);
              }
              load();
            } catch (e) {
              if (e.message !== 'unauthorized') say(e.message, true);
            }
          });

          if (token()) start(); else showLogin('');
        })();
        """#

    static let styles = """
        :root { --fg: #1d232a; --muted: #68737d; --line: #e1e5ea; --bg: #f6f8fa; --card: #fff; --sent: #2e9e5b; --failed: #d64545;
          --skipped: #a0a8b0; --pending: #cfd8e3; --accent: #2463eb; --warn: #c98a00; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; gap: 1.5rem; align-items: center; padding: .7rem 1.5rem; background: #111827; color: #fff; }
        header a { color: #d1d5db; text-decoration: none; margin-right: 1rem; }
        header a:hover { color: #fff; }
        header .brand { font-weight: 700; color: #fff; font-size: 1.1rem; letter-spacing: .02em; }
        header #who { margin-left: auto; color: #9ca3af; }
        main, #login { max-width: 1200px; margin: 1.5rem auto; padding: 0 1.5rem; }
        footer { max-width: 1200px; margin: 0 auto 2rem; padding: 0 1.5rem; }
        h1 { font-size: 1.4rem; margin: 0 0 .4rem; }
        h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
        code { font: 600 .95em ui-monospace, SFMono-Regular, Menlo, monospace; }
        .muted { color: var(--muted); }
        .error, .error-text { color: var(--failed); }
        .ok { color: var(--sent); }
        #notice { max-width: 1200px; margin: 0 auto 1rem; padding: 0 1.5rem; font-weight: 600; }
        table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
        th, td { padding: .45rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; }
        th { font-weight: 600; color: var(--muted); font-size: .85em; background: #fafbfc; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.wide, th.wide { width: 22%; min-width: 140px; }
        a { color: var(--accent); }
        .badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; background: #e5e7eb; color: #374151; vertical-align: middle; }
        .state-running, .state-sending { background: #dbeafe; color: #1e40af; }
        .state-finished, .state-idle { background: #dcfce7; color: #166534; }
        .state-paused { background: #fef3c7; color: #92400e; }
        .state-retired { background: #e5e7eb; color: #374151; }
        .state-cancelled { background: #fee2e2; color: #991b1b; }
        .actions { display: flex; gap: .5rem; margin: .8rem 0 1rem; }
        button { font: inherit; padding: .4rem .9rem; border: 1px solid #c7ced6; border-radius: 6px; background: #fff; cursor: pointer; }
        button:hover { border-color: var(--accent); }
        button.danger { color: var(--failed); border-color: #f3b4b4; }
        button:disabled { opacity: .5; cursor: default; }
        .counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(105px, 1fr)); gap: .5rem; margin-bottom: .8rem; }
        .count { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; }
        .count .label { display: block; color: var(--muted); font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; }
        .count .value { font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
        .count.status-sent .value { color: var(--sent); }
        .count.status-failed .value, .count.status-dead_lettered .value { color: var(--failed); }
        svg.bar { display: block; border-radius: 3px; overflow: hidden; }
        .bar-wide svg.bar { height: 16px; }
        .seg-track { fill: #eef1f4; }
        .seg-sent { fill: var(--sent); }
        .seg-failed { fill: var(--failed); }
        .seg-skipped { fill: var(--skipped); }
        .seg-pending { fill: var(--pending); }
        .rates { color: var(--muted); }
        svg.chart { background: var(--card); border: 1px solid var(--line); border-radius: 6px; max-height: 220px; }
        .chart-bar { fill: var(--accent); }
        .axis { stroke: #c7ced6; }
        .tick { fill: var(--muted); font-size: 10px; }
        #login form { max-width: 420px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1.4rem; }
        #login label { display: block; font-weight: 600; margin: .8rem 0 .3rem; }
        #login input { width: 100%; padding: .5rem; font: inherit; border: 1px solid #c7ced6; border-radius: 6px; margin-bottom: .8rem; }
        """
}
