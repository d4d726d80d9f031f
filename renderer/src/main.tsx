/**
 * Entry of the UI, the same in the Electron window and in a browser.
 */
import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.js';
import { readAdminToken } from './auth/token.js';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
const token = readAdminToken(window.farmboy, window.location, window.history, window.sessionStorage);
createRoot(root).render(
  <StrictMode>
    <App initialToken={token} />
  </StrictMode>,
);
