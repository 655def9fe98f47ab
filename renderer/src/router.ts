import { useEffect, useState } from 'react';

/** The console's pages, addressed by the URL hash so links, reloads and the back button work without a server router. */
export const PAGES = [
  { id: 'overview', label: 'Overview' },
  { id: 'servers', label: 'Servers' },
  { id: 'tools', label: 'Tools & scopes' },
  { id: 'access', label: 'Clients & access' },
  { id: 'activity', label: 'Activity' },
  { id: 'settings', label: 'Settings' },
] as const;

export type PageId = (typeof PAGES)[number]['id'];

function current(): PageId {
  const id = window.location.hash.replace(/^#\/?/, '');
  return PAGES.find((p) => p.id === id)?.id ?? 'overview';
}

export function usePage(): PageId {
  const [page, setPage] = useState<PageId>(current);
  useEffect(() => {
    const onChange = () => setPage(current());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return page;
}

export const href = (page: PageId) => `#/${page}`;
