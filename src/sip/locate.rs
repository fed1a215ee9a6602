//! Where the registrar is (RFC 3263 §4): the proxy as the rep wrote it becomes an
//! ordered list of targets to try. An IP address is used as is; `host:port` is looked
//! up as A/AAAA (every address a target, RFC 3263 §4.2: an explicit port means no
//! SRV); a bare host is looked up as SRV for the chosen transport (`_sip._udp`,
//! `_sip._tcp`, `_sips._tcp`; priority order, weighted random within a priority as
//! RFC 2782 says), then A/AAAA at the default port when it has none. With the
//! transport left to the PBX (`auto`), its NAPTR records choose (SIP+D2U, SIP+D2T,
//! SIPS+D2T; order, then preference), then SRV as above. The user agent moves to the
//! next target when one cannot be reached, times out or answers 503.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;

use super::transaction::Transport;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub transport: Transport,
    pub addr: SocketAddr,
    /// The host the certificate must name (TLS) — the SRV target, or the host written.
    pub host: String,
}

fn default_port(t: Transport) -> u16 {
    match t {
        Transport::Tls | Transport::Wss => 5061,
        _ => 5060,
    }
}

fn srv_name(t: Transport, host: &str) -> Option<String> {
    match t {
        Transport::Udp => Some(format!("_sip._udp.{host}.")),
        Transport::Tcp => Some(format!("_sip._tcp.{host}.")),
        Transport::Tls => Some(format!("_sips._tcp.{host}.")),
        // No SRV service is registered for WebSocket: the URL's host and port are it.
        Transport::Ws | Transport::Wss => None,
    }
}

/// The system's resolver (resolv.conf), or one that asks `server` (tests, sandboxes).
pub fn resolver(server: Option<SocketAddr>) -> Result<TokioResolver, String> {
    use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
    use hickory_resolver::name_server::TokioConnectionProvider;
    match server {
        Some(s) => {
            let config = ResolverConfig::from_parts(None, vec![], NameServerConfigGroup::from_ips_clear(&[s.ip()], s.port(), true));
            Ok(TokioResolver::builder_with_config(config, TokioConnectionProvider::default()).build())
        }
        None => TokioResolver::builder_tokio().map(|b| b.build()).map_err(|e| format!("the system's DNS settings cannot be read ({e})")),
    }
}

/// Orders SRV records: by priority, then a weighted random order within each priority
/// (RFC 2782); `random` draws in [0, 1).
pub fn order_srv(mut records: Vec<(u16, u16, u16, String)>, random: &mut dyn FnMut() -> f64) -> Vec<(u16, String)> {
    records.sort_by_key(|r| r.0);
    let mut out = Vec::new();
    while !records.is_empty() {
        let priority = records[0].0;
        let mut group: Vec<_> = records.iter().filter(|r| r.0 == priority).cloned().collect();
        records.retain(|r| r.0 != priority);
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.1)).sum();
            let pick = if total == 0 {
                0
            } else {
                let mut at = (random() * f64::from(total)) as u32;
                group.iter().position(|r| {
                    if at < u32::from(r.1) {
                        true
                    } else {
                        at -= u32::from(r.1);
                        false
                    }
                }).unwrap_or(0)
            };
            let r = group.remove(pick);
            out.push((r.2, r.3));
        }
    }
    out
}

async fn addresses(resolver: &TokioResolver, host: &str, port: u16, transport: Transport, out: &mut Vec<Target>) -> Result<(), String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        out.push(Target { transport, addr: SocketAddr::new(ip, port), host: host.to_string() });
        return Ok(());
    }
    let name = if host.ends_with('.') { host.to_string() } else { format!("{host}.") };
    let ips = resolver.lookup_ip(name.as_str()).await.map_err(|e| format!("{host} cannot be found ({e})"))?;
    for ip in ips.iter() {
        out.push(Target { transport, addr: SocketAddr::new(ip, port), host: host.trim_end_matches('.').to_string() });
    }
    Ok(())
}

/// The targets for `proxy` (`host`, `host:port`, an IP, `[v6]:port`), over `transport`
/// (`None`: the PBX's NAPTR records choose).
pub async fn locate(resolver: &TokioResolver, proxy: &str, transport: Option<Transport>) -> Result<Vec<Target>, String> {
    let proxy = proxy.trim();
    let (host, port) = split_host_port(proxy);
    let mut out = Vec::new();
    if let Some(port) = port {
        addresses(resolver, &host, port, transport.unwrap_or(Transport::Udp), &mut out).await?;
        return non_empty(out, proxy);
    }
    if host.parse::<IpAddr>().is_ok() {
        let t = transport.unwrap_or(Transport::Udp);
        addresses(resolver, &host, default_port(t), t, &mut out).await?;
        return non_empty(out, proxy);
    }
    let transports: Vec<Transport> = match transport {
        Some(t) => vec![t],
        None => naptr(resolver, &host).await,
    };
    let mut rng = rand::random::<f64>;
    for t in &transports {
        let Some(service) = srv_name(*t, &host) else { continue };
        let Ok(srv) = resolver.srv_lookup(service.as_str()).await else { continue };
        let records: Vec<(u16, u16, u16, String)> = srv
            .iter()
            .filter(|r| r.target().to_string() != ".")
            .map(|r| (r.priority(), r.weight(), r.port(), r.target().to_string()))
            .collect();
        for (port, target) in order_srv(records, &mut rng) {
            if let Err(e) = addresses(resolver, &target, port, *t, &mut out).await {
                tracing::info!(%e, "an SRV target has no address; skipped");
            }
        }
    }
    if out.is_empty() {
        // No SRV: the host itself, at the transport's default port.
        let t = transports.first().copied().or(transport).unwrap_or(Transport::Udp);
        addresses(resolver, &host, default_port(t), t, &mut out).await?;
    }
    non_empty(out, proxy)
}

fn non_empty(out: Vec<Target>, proxy: &str) -> Result<Vec<Target>, String> {
    if out.is_empty() {
        Err(format!("{proxy} has no address"))
    } else {
        Ok(out)
    }
}

/// NAPTR (RFC 3263 §4.1): the transports the domain offers, in its order; none found
/// (or none we speak): UDP, TCP, TLS as RFC 3263 §4.1 falls back.
async fn naptr(resolver: &TokioResolver, host: &str) -> Vec<Transport> {
    let Ok(lookup) = resolver.lookup(format!("{host}.").as_str(), RecordType::NAPTR).await else {
        return vec![Transport::Udp, Transport::Tcp, Transport::Tls];
    };
    let mut records: Vec<(u16, u16, Transport)> = lookup
        .iter()
        .filter_map(|r| match r {
            RData::NAPTR(n) => {
                let service = String::from_utf8_lossy(n.services()).to_ascii_uppercase();
                let t = match service.as_str() {
                    "SIP+D2U" => Transport::Udp,
                    "SIP+D2T" => Transport::Tcp,
                    "SIPS+D2T" => Transport::Tls,
                    _ => return None,
                };
                Some((n.order(), n.preference(), t))
            }
            _ => None,
        })
        .collect();
    if records.is_empty() {
        return vec![Transport::Udp, Transport::Tcp, Transport::Tls];
    }
    records.sort_by_key(|r| (r.0, r.1));
    let mut out: Vec<Transport> = Vec::new();
    for (_, _, t) in records {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`, `v4:port`.
pub fn split_host_port(s: &str) -> (String, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            return (h.to_string(), tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    if s.parse::<std::net::Ipv6Addr>().is_ok() {
        return (s.to_string(), None);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h.to_string(), p.parse().ok()),
        _ => (s.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srv_records_go_by_priority_then_weight() {
        let records = vec![(20, 0, 5060, "backup.".into()), (10, 90, 5060, "a.".into()), (10, 10, 5062, "b.".into())];
        let mut low = || 0.0;
        assert_eq!(order_srv(records.clone(), &mut low).iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["a.", "b.", "backup."]);
        let mut high = || 0.95;
        assert_eq!(order_srv(records, &mut high).iter().map(|r| r.1.as_str()).collect::<Vec<_>>(), ["b.", "a.", "backup."], "b holds weights 90..100");
        assert_eq!(split_host_port("pbx.example.com:5070"), ("pbx.example.com".into(), Some(5070)));
        assert_eq!(split_host_port("[2001:db8::1]:5060"), ("2001:db8::1".into(), Some(5060)));
        assert_eq!(split_host_port("pbx.example.com"), ("pbx.example.com".into(), None));
        assert_eq!(split_host_port("2001:db8::1"), ("2001:db8::1".into(), None));
    }
}
