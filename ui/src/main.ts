// Webview entry: mounts the app. Global CSS is imported here so Vite emits it
// as a stylesheet file (the CSP allows no inline styles).
import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";

const target = document.getElementById("app");
if (!target) throw new Error("index.html must contain <div id=\"app\">");

export default mount(App, { target });
