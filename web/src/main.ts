// Shared by every page: NHS.UK frontend's compiled styles and the behaviour of its components.
import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import { initAll } from 'nhsuk-frontend';

initAll();
