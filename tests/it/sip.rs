//! The SIP message parser against the RFC 4475 torture messages, read from
//! `../shared/sip-torture/` (the test says so and passes when that folder is absent),
//! with the verdict of each message taken from its INDEX.md.

use std::path::PathBuf;

use ringside::sip::{parse_datagram, Contact, Message, ParseError, Uri};

fn torture_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/sip-torture");
    dir.join("INDEX.md").exists().then_some(dir)
}

/// (file, verdict) from the INDEX.md table.
fn verdicts(dir: &std::path::Path) -> Vec<(String, String)> {
    let index = std::fs::read_to_string(dir.join("INDEX.md")).unwrap();
    index
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(".dat"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].to_string(), cells[4].to_string())
        })
        .collect()
}

fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

fn parsed(dir: &std::path::Path, name: &str) -> Message {
    parse_datagram(&read(dir, name)).unwrap_or_else(|e| panic!("{name} must parse: {e}"))
}

#[test]
fn every_rfc_4475_message_gets_the_verdict_the_rfc_asks_for() {
    let Some(dir) = torture_dir() else {
        eprintln!("skipped: ../shared/sip-torture is not here");
        return;
    };
    let list = verdicts(&dir);
    assert_eq!(list.len(), 49, "INDEX.md lists the 49 messages");
    let mut wrong = Vec::new();
    for (file, verdict) in &list {
        let result = parse_datagram(&read(&dir, file));
        let must_parse = verdict == "valid" || (verdict.starts_with("semantic") && !verdict.contains("expect"));
        match (&result, must_parse) {
            (Ok(_), true) | (Err(ParseError::Malformed { .. }), false) => {}
            (Ok(_), false) => wrong.push(format!("{file} ({verdict}) was accepted")),
            (Err(e), true) => wrong.push(format!("{file} ({verdict}) was refused: {e}")),
            (Err(ParseError::Incomplete), false) => wrong.push(format!("{file}: a datagram is never incomplete")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_valid_torture_messages_mean_what_the_rfc_says() {
    let Some(dir) = torture_dir() else { return };
    let esc02 = parsed(&dir, "esc02.dat");
    assert_eq!(esc02.method(), Some("RE%47IST%45R"), "% in a method is not an escape");
    assert_eq!(esc02.contact.len(), 2, "C%6Fntact is an unknown header, not a third Contact");
    let escnull = parsed(&dir, "escnull.dat");
    assert_eq!(escnull.contact.len(), 2);
    let dbl = parsed(&dir, "dblreq.dat");
    assert_eq!(dbl.method(), Some("REGISTER"));
    assert!(dbl.body.is_empty(), "the INVITE-looking octets after Content-Length 0 are noise");
    let mpart = parsed(&dir, "mpart01.dat");
    assert!(mpart.body.contains(&0), "the binary part with NUL is kept whole");
    assert_eq!(Some(mpart.body.len()), mpart.header("Content-Length").and_then(|l| l.parse().ok()));
    let semi = parsed(&dir, "semiuri.dat");
    match &semi.start {
        ringside::sip::StartLine::Request { uri: Uri::Sip(s), .. } => assert_eq!(s.user.as_deref(), Some("user;par=u%40example.net")),
        other => panic!("{other:?}"),
    }
    let c1 = parsed(&dir, "cparam01.dat");
    let c2 = parsed(&dir, "cparam02.dat");
    let (Contact::Addr(a1), Contact::Addr(a2)) = (&c1.contact[0], &c2.contact[0]) else { panic!("contacts") };
    assert_eq!(a1.param("unknownparam"), Some(None), "without <>: a contact parameter");
    assert!(a2.uri.as_sip().unwrap().param("unknownparam").is_some(), "inside <>: a URI parameter");
    let wsinv = parsed(&dir, "wsinv.dat");
    assert_eq!(wsinv.via.len(), 3, "folded, spaced Via values");
    assert_eq!(wsinv.max_forwards, Some(68));
    assert_eq!(wsinv.cseq.seq, 9);
    assert_eq!(wsinv.from.display.as_deref(), Some("J Rosenberg \\\""));
    let unk = parsed(&dir, "unksm2.dat");
    assert_eq!(unk.to.uri.scheme(), "isbn", "non-SIP schemes are parsed for the UA to judge");
    assert_eq!(parsed(&dir, "noreason.dat").code(), Some(100));
}

#[test]
fn refusals_say_what_to_answer() {
    let Some(dir) = torture_dir() else { return };
    let status = |name: &str| match parse_datagram(&read(&dir, name)) {
        Err(ParseError::Malformed { status, .. }) => status,
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(status("badvers.dat"), Some(505), "an unknown SIP version is 505");
    assert_eq!(status("bigcode.dat"), None, "a bad response is dropped, never answered");
    assert_eq!(status("scalarlg.dat"), None);
    assert_eq!(status("scalar02.dat"), Some(400));
    assert_eq!(status("insuf.dat"), Some(400));
    match parse_datagram(&read(&dir, "mcl01.dat")) {
        Err(ParseError::Malformed { fatal_for_stream, .. }) => assert!(fatal_for_stream, "two Content-Lengths lose the framing"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_cli_explains_a_captured_message_or_names_the_fault() {
    let Some(dir) = torture_dir() else { return };
    let run = |file: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ringside"))
            .args(["--json", "sip", "parse"])
            .arg(dir.join(file))
            .env("RINGSIDE_DATA_DIR", tempfile::tempdir().unwrap().path())
            .output()
            .unwrap();
        (out.status.success(), serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default())
    };
    let (ok, v) = run("wsinv.dat");
    assert!(ok);
    assert_eq!(v["message"]["start"]["method"], "INVITE");
    assert_eq!(v["message"]["via"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["bodyBytes"], 150);
    let (ok, v) = run("badvers.dat");
    assert!(!ok, "a refused message exits non-zero");
    assert_eq!(v["error"]["status"], 505);
    assert!(v["error"]["message"].as_str().unwrap().contains("SIP/7.0"));
}
