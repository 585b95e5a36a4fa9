/** The web UI: sign-in, then the shell (navigation, account switcher) around the page of the route. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { actingAccount, currentSession, get, onSessionChange, setActingAccount, signOut } from './api';
import { useRoute, type Route } from './router';
import { Login } from './pages/login';
import { DashboardPage } from './pages/dashboard';
import { ImagesPage } from './pages/images';
import { ImagePage } from './pages/image';
import { ComparePage } from './pages/compare';
import { PoliciesPage } from './pages/policies';
import { EventsPage, NotificationsPage, RegistriesPage, SubscriptionsPage, SystemPage } from './pages/admin';

const NAV: [string, string][] = [
  ['', 'Dashboard'], ['images', 'Images'], ['compare', 'Compare'], ['policies', 'Policies'], ['registries', 'Registries'],
  ['subscriptions', 'Subscriptions'], ['notifications', 'Notifications'], ['events', 'Events'], ['system', 'System'],
];

function Page({ route }: { route: Route }) {
  const [section, id, tab] = route.path;
  switch (section ?? '') {
    case '': return <DashboardPage />;
    case 'images': return id ? <ImagePage route={route} digest={id} tab={tab ?? 'overview'} /> : <ImagesPage route={route} />;
    case 'compare': return <ComparePage route={route} />;
    case 'policies': return <PoliciesPage route={route} />;
    case 'registries': return <RegistriesPage />;
    case 'subscriptions': return <SubscriptionsPage />;
    case 'notifications': return <NotificationsPage />;
    case 'events': return <EventsPage route={route} />;
    case 'system': return <SystemPage />;
    default: return <section><h1>Not found</h1><p>No page at <code>{location.hash}</code>. <a href="#/">Go to the dashboard</a>.</p></section>;
  }
}

function AccountSwitcher({ onChange }: { onChange: () => void }) {
  const [accounts, setAccounts] = useState<string[]>([]);
  useEffect(() => {
    // Only admins may list accounts; everyone else simply gets no switcher.
    get<{ name: string; state: string }[]>('/accounts', { state: 'enabled' }).then((a) => setAccounts(a.map((x) => x.name)), () => setAccounts([]));
  }, []);
  if (accounts.length < 2) return null;
  return (
    <div class="account-switch">
      <label for="account">Account</label>
      <select id="account" value={actingAccount() ?? ''} onChange={(e) => { setActingAccount((e.target as HTMLSelectElement).value || undefined); onChange(); }}>
        <option value="">(own)</option>
        {accounts.map((a) => <option key={a} value={a}>{a}</option>)}
      </select>
    </div>
  );
}

function Shell() {
  const route = useRoute();
  const [generation, setGeneration] = useState(0);
  const [menuOpen, setMenuOpen] = useState(false);
  const session = currentSession()!;
  const section = route.path[0] ?? '';
  useEffect(() => setMenuOpen(false), [route]);
  useEffect(() => {
    const title = NAV.find(([id]) => id === section)?.[1] ?? 'Lading';
    document.title = `${title} · Lading`;
  }, [section]);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header class="topbar">
        <a class="brand" href="#/"><span class="logo" aria-hidden="true">L</span>Lading</a>
        <button type="button" class="btn menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>Menu</button>
        <nav id="nav" class={`nav${menuOpen ? ' open' : ''}`} aria-label="Main">
          {NAV.map(([id, label]) => (
            <a key={id} href={`#/${id}`} aria-current={section === id ? 'page' : undefined}>{label}</a>
          ))}
        </nav>
        <div class="who">
          <AccountSwitcher onChange={() => setGeneration((g) => g + 1)} />
          <span class="user" title="Signed in as">{session.username}{actingAccount() ? ` → ${actingAccount()}` : ''}</span>
          <button type="button" class="btn small ghost" onClick={() => signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1} key={generation}>
        <Page route={route} />
      </main>
    </>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(() => currentSession() !== undefined);
  useEffect(() => onSessionChange(() => setSignedIn(currentSession() !== undefined)), []);
  return signedIn ? <Shell /> : <Login />;
}

render(<App />, document.getElementById('app')!);
