# Ringside — the two commands of the README, and their parts.
#   make run    install what is missing (Debian 12), build the UI and the app, run it
#   make test   install what is missing, then core + shell tests, UI tests, end-to-end
SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CARGO ?= cargo
TOOLS := $(CURDIR)/target/tools
TAURI_DRIVER := $(TOOLS)/bin/tauri-driver

APT_PACKAGES := build-essential pkg-config curl file xdg-utils \
  libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev libxdo-dev \
  libasound2-dev libpulse-dev pulseaudio pulseaudio-utils libasound2-plugins alsa-utils cmake \
  gnome-keyring dbus dbus-x11 libdbus-1-dev libsecret-tools \
  webkit2gtk-driver xvfb xauth imagemagick x11-utils \
  kamailio kamailio-tls-modules kamailio-websocket-modules sip-tester baresip-core openssl \
  fonts-noto-core fonts-noto-cjk

.PHONY: run test deps ui test-ui test-e2e bench bench-match bench-calllog bench-meetings bench-layouts bench-sip bench-calls bench-media fuzz sandbox

run: deps ui
	$(CARGO) build --release -p ringside-desktop
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then ./target/release/ringside-desktop; \
	else echo "No display: running Ringside in a private Xvfb session (tests/scripts/with-session --x)."; \
	  tests/scripts/with-session --x ./target/release/ringside-desktop; fi

test: deps ui
	$(CARGO) build -p ringside -p ringside-desktop -p ringside-sforg -p ringside-meetsrv --all-targets
	tests/scripts/with-session $(CARGO) test -p ringside -p ringside-desktop -p ringside-sforg -p ringside-meetsrv
	$(MAKE) test-ui
	$(MAKE) test-e2e

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "Installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi
	@command -v cargo >/dev/null || { echo "Rust (cargo) is needed: install it with rustup, then run make again."; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null || \
	  { echo "Node.js 20.19 or newer (with npm) is needed for the UI build; Debian 12's own nodejs 18 is too old."; exit 1; }

ui:
	cd ui && npm ci --no-audit --no-fund && npm run build

test-ui:
	cd ui && npm run check && npm test

$(TAURI_DRIVER):
	$(CARGO) install tauri-driver --version '^2' --locked --root $(TOOLS)

test-e2e: $(TAURI_DRIVER)
	$(CARGO) build -p ringside-desktop -p ringside -p ringside-sforg -p ringside-meetsrv --bins
	cd tests/e2e && npm ci --no-audit --no-fund
	TAURI_DRIVER=$(TAURI_DRIVER) RINGSIDE_APP=$(CURDIR)/target/debug/ringside-desktop \
	  RINGSIDE_CLI=$(CURDIR)/target/debug/ringside RINGSIDE_SFORG=$(CURDIR)/target/debug/sforg \
	  RINGSIDE_MEETSRV=$(CURDIR)/target/debug/meetsrv \
	  timeout 900 tests/scripts/with-session --x node --test --test-concurrency=1 tests/e2e/

bench-match:
	tests/scripts/with-session $(CARGO) bench -p ringside --bench matching

bench-calllog:
	tests/scripts/with-session $(CARGO) bench -p ringside --bench calllog

bench-meetings:
	tests/scripts/with-session $(CARGO) bench -p ringside --bench meetings

bench-layouts:
	tests/scripts/with-session $(CARGO) bench -p ringside --bench layouts

bench-sip:
	$(CARGO) bench -p ringside --bench sip_parse

bench-calls:
	$(CARGO) bench -p ringside --bench sip_calls

bench-media:
	tests/scripts/with-session $(CARGO) bench -p ringside --bench media
	tests/scripts/with-session $(CARGO) bench -p ringside --bench latency

bench: deps ui
	$(CARGO) build --release -p ringside-desktop -p hello-tauri
	tests/scripts/with-session --x python3 tests/bench/startup.py

# Fuzz the SIP parser for FUZZ_SECONDS (fuzz/README.md); the RFC 4475 messages join the
# seed corpus when ../shared/sip-torture is there.
FUZZ_SECONDS ?= 120
$(TOOLS)/bin/cargo-fuzz:
	$(CARGO) install cargo-fuzz --locked --root $(TOOLS)

fuzz: $(TOOLS)/bin/cargo-fuzz
	cd fuzz && PATH="$(TOOLS)/bin:$$PATH" RUSTC_BOOTSTRAP=1 cargo fuzz run sip_message corpus/sip_message \
	  $$([ -d ../../shared/sip-torture ] && echo ../../shared/sip-torture) -- -max_total_time=$(FUZZ_SECONDS)
	cd fuzz && PATH="$(TOOLS)/bin:$$PATH" RUSTC_BOOTSTRAP=1 cargo fuzz run sdp corpus/sdp -- -max_total_time=$(FUZZ_SECONDS)

# Sandbox Salesforce org for manual runs against http://127.0.0.1:8787 (tests/sforg/README.md).
sandbox:
	tests/scripts/sandbox
