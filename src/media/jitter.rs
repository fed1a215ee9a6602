//! The adaptive jitter buffer: RTP payloads in, one frame every 20 ms out.
//!
//! Packets are held by sequence number in a fixed ring of slots whose payload buffers
//! are allocated once, so nothing is allocated per packet. Playout starts when the
//! buffer holds its target depth; a missing packet is reported as lost (with the one
//! after it, for Opus FEC) once a later one has arrived; an empty buffer is an
//! underrun, which does not advance playout, so the delay grows by that frame. When
//! the far end's jitter falls, the buffer gives delay back by dropping a frame while
//! it is deeper than needed. The target follows the measured jitter.

/// Slots in the ring: 1.28 s of 20 ms frames.
const SLOTS: usize = 64;
/// Largest payload kept (an Opus packet is at most 1275 bytes).
pub const MAX_PAYLOAD: usize = 1_500;
/// Bounds of the target depth, in frames.
pub const MIN_TARGET: u32 = 1;
pub const MAX_TARGET: u32 = 10;

#[derive(Debug, Clone)]
struct Slot {
    used: bool,
    seq: u16,
    payload_type: u8,
    len: usize,
    payload: Box<[u8]>,
}

/// What plays next.
#[derive(Debug, PartialEq, Eq)]
pub enum Playout<'a> {
    /// Not started yet (filling up to the target).
    Waiting,
    Packet { payload_type: u8, payload: &'a [u8] },
    /// This frame's packet is missing; `next` is the following one when it is here.
    Lost { next: Option<&'a [u8]> },
    /// Nothing has arrived for this frame yet (network stall or the far end's DTX).
    Underrun,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    Accepted,
    /// Arrived after its turn to play.
    Late,
    Duplicate,
    /// Too large to be an audio frame.
    Oversized,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    pub played: u32,
    pub lost: u32,
    pub late: u32,
    pub duplicates: u32,
    pub underruns: u32,
    /// Frames dropped to give delay back.
    pub shrunk: u32,
    pub resyncs: u32,
}

pub struct JitterBuffer {
    slots: Vec<Slot>,
    /// The next sequence number to play, once started.
    next: Option<u16>,
    /// The highest sequence number seen.
    highest: Option<u16>,
    started: bool,
    target: u32,
    /// Pops in a row with more than the target buffered.
    deep_for: u32,
    pub stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        JitterBuffer::new()
    }
}

impl JitterBuffer {
    pub fn new() -> JitterBuffer {
        let slot = Slot { used: false, seq: 0, payload_type: 0, len: 0, payload: vec![0; MAX_PAYLOAD].into_boxed_slice() };
        JitterBuffer { slots: vec![slot; SLOTS], next: None, highest: None, started: false, target: 2, deep_for: 0, stats: JitterStats::default() }
    }

    /// The depth playout aims for, in frames.
    pub fn target(&self) -> u32 {
        self.target
    }

    /// Adapts the target to the interarrival jitter (RFC 3550 §6.4.1) in ms: enough
    /// for about three times the jitter plus a margin.
    pub fn set_jitter_ms(&mut self, jitter_ms: f32) {
        let frames = ((jitter_ms * 3.0 + 8.0) / 20.0).ceil() as u32;
        self.target = frames.clamp(MIN_TARGET, MAX_TARGET);
    }

    /// Frames buffered from the next to play to the highest received.
    pub fn depth(&self) -> u32 {
        match (self.next, self.highest) {
            (Some(n), Some(h)) => (i32::from(h.wrapping_sub(n) as i16) + 1).clamp(0, SLOTS as i32) as u32,
            _ => 0,
        }
    }

    fn reset(&mut self) {
        for s in &mut self.slots {
            s.used = false;
        }
        self.next = None;
        self.highest = None;
        self.started = false;
    }

    pub fn insert(&mut self, seq: u16, payload_type: u8, payload: &[u8]) -> Insert {
        if payload.len() > MAX_PAYLOAD {
            return Insert::Oversized;
        }
        if let Some(next) = self.next {
            let ahead = seq.wrapping_sub(next) as i16;
            if ahead < 0 {
                if ahead < -(SLOTS as i16) * 4 {
                    // A jump back far beyond any reordering: the sender restarted.
                    self.stats.resyncs += 1;
                    self.reset();
                } else if self.started {
                    self.stats.late += 1;
                    return Insert::Late;
                }
            } else if ahead as usize >= SLOTS {
                // Far ahead: a restart or a long stall; start again from this packet.
                self.stats.resyncs += 1;
                self.reset();
            }
        }
        let slot = &mut self.slots[seq as usize % SLOTS];
        if slot.used && slot.seq == seq {
            self.stats.duplicates += 1;
            return Insert::Duplicate;
        }
        slot.used = true;
        slot.seq = seq;
        slot.payload_type = payload_type;
        slot.len = payload.len();
        slot.payload[..payload.len()].copy_from_slice(payload);
        match self.highest {
            Some(h) if (seq.wrapping_sub(h) as i16) <= 0 => {}
            _ => self.highest = Some(seq),
        }
        match self.next {
            None => self.next = Some(seq),
            // Before playout starts, an earlier packet that arrives late still leads.
            Some(n) if !self.started && (seq.wrapping_sub(n) as i16) < 0 => self.next = Some(seq),
            _ => {}
        }
        Insert::Accepted
    }

    /// The next frame's worth. Call once per frame interval.
    pub fn pop(&mut self) -> Playout<'_> {
        let Some(next) = self.next else {
            return if self.started { self.underrun() } else { Playout::Waiting };
        };
        if !self.started {
            if self.depth() < self.target {
                return Playout::Waiting;
            }
            self.started = true;
        }
        // Give delay back: deeper than the target for a second, one frame is skipped.
        if self.depth() > self.target {
            self.deep_for += 1;
            if self.deep_for >= 50 {
                self.deep_for = 0;
                self.stats.shrunk += 1;
                self.slots[next as usize % SLOTS].used = false;
                self.next = Some(next.wrapping_add(1));
                return self.pop();
            }
        } else {
            self.deep_for = 0;
        }
        let i = next as usize % SLOTS;
        if self.slots[i].used && self.slots[i].seq == next {
            self.slots[i].used = false;
            self.next = Some(next.wrapping_add(1));
            self.stats.played += 1;
            let s = &self.slots[i];
            return Playout::Packet { payload_type: s.payload_type, payload: &s.payload[..s.len] };
        }
        let later = self.highest.is_some_and(|h| (h.wrapping_sub(next) as i16) > 0);
        if !later {
            return self.underrun();
        }
        self.stats.lost += 1;
        self.next = Some(next.wrapping_add(1));
        let following = next.wrapping_add(1);
        let j = following as usize % SLOTS;
        let s = &self.slots[j];
        Playout::Lost { next: (s.used && s.seq == following).then(|| &s.payload[..s.len]) }
    }

    fn underrun(&mut self) -> Playout<'_> {
        self.stats.underruns += 1;
        Playout::Underrun
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(p: Playout<'_>) -> String {
        match p {
            Playout::Waiting => "wait".into(),
            Playout::Packet { payload, .. } => format!("p{}", payload[0]),
            Playout::Lost { next: Some(n) } => format!("lost+{}", n[0]),
            Playout::Lost { next: None } => "lost".into(),
            Playout::Underrun => "under".into(),
        }
    }

    #[test]
    fn reorders_reports_loss_and_waits_for_its_target() {
        let mut jb = JitterBuffer::new();
        assert_eq!(jb.target(), 2);
        assert_eq!(jb.insert(101, 0, &[1]), Insert::Accepted);
        assert_eq!(kind(jb.pop()), "wait");
        assert_eq!(jb.insert(100, 0, &[0]), Insert::Accepted, "an earlier packet leads");
        assert_eq!(jb.insert(104, 0, &[4]), Insert::Accepted);
        assert_eq!(jb.insert(103, 0, &[3]), Insert::Accepted);
        assert_eq!(jb.insert(103, 0, &[3]), Insert::Duplicate);
        let got: Vec<String> = (0..6).map(|_| kind(jb.pop())).collect();
        assert_eq!(got, ["p0", "p1", "lost+3", "p3", "p4", "under"]);
        assert_eq!(jb.insert(102, 0, &[2]), Insert::Late);
        assert_eq!(jb.insert(105, 0, &[5]), Insert::Accepted);
        assert_eq!(kind(jb.pop()), "p5", "an underrun does not skip the frame");
        assert_eq!((jb.stats.lost, jb.stats.late, jb.stats.underruns, jb.stats.played), (1, 1, 1, 5));
    }

    #[test]
    fn sequence_numbers_wrap_and_restarts_resync() {
        let mut jb = JitterBuffer::new();
        for seq in [65_534u16, 65_535, 0, 1] {
            jb.insert(seq, 0, &[seq as u8]);
        }
        let got: Vec<String> = (0..4).map(|_| kind(jb.pop())).collect();
        assert_eq!(got, ["p254", "p255", "p0", "p1"]);
        jb.insert(30_000, 0, &[9]);
        assert_eq!(jb.stats.resyncs, 1);
        jb.insert(30_001, 0, &[10]);
        assert_eq!(kind(jb.pop()), "p9");
        assert_eq!(jb.insert(1, 0, &[0; MAX_PAYLOAD + 1]), Insert::Oversized);
    }

    #[test]
    fn the_target_follows_jitter_and_extra_delay_is_given_back() {
        let mut jb = JitterBuffer::new();
        jb.set_jitter_ms(0.5);
        assert_eq!(jb.target(), MIN_TARGET);
        jb.set_jitter_ms(40.0);
        assert_eq!(jb.target(), 7);
        jb.set_jitter_ms(500.0);
        assert_eq!(jb.target(), MAX_TARGET);
        jb.set_jitter_ms(0.0);
        // Six frames arrive at once (a stall ended), then one per pop: the buffer
        // stays six deep until it gives the extra back, a frame a second.
        let mut seq = 0u16;
        for _ in 0..6 {
            jb.insert(seq, 0, &[0]);
            seq += 1;
        }
        for _ in 0..300 {
            jb.insert(seq, 0, &[0]);
            seq += 1;
            assert!(matches!(jb.pop(), Playout::Packet { .. }));
        }
        assert!(jb.depth() <= jb.target(), "depth {}", jb.depth());
        assert_eq!(jb.stats.shrunk, 6, "from seven deep to one");
        assert_eq!(jb.stats.lost, 0);
    }
}
