//! IPv4 subnets, for per-pod node addresses.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 CIDR block such as `192.168.96.0/19`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

impl Ipv4Cidr {
    /// A block from a network address and prefix length; host bits of `addr` are cleared.
    /// `None` when `prefix > 32`.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Ipv4Cidr> {
        if prefix > 32 {
            return None;
        }
        Some(Ipv4Cidr { network: u32::from(addr) & mask(prefix), prefix })
    }

    /// Like [`Ipv4Cidr::new`], with a prefix above 32 taken as 32.
    pub fn clamped(addr: Ipv4Addr, prefix: u8) -> Ipv4Cidr {
        let prefix = prefix.min(32);
        Ipv4Cidr { network: u32::from(addr) & mask(prefix), prefix }
    }

    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Number of addresses in the block (2^(32-prefix)).
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == self.network
    }

    /// The addresses AWS lets an ENI use: a VPC subnet reserves its first four addresses
    /// (network, router, DNS, future use) and its last one (broadcast). Empty for blocks smaller
    /// than a /28 minus those five. Returned as `(first, count)`.
    pub fn aws_usable(&self) -> (u32, u64) {
        let size = self.size();
        if size <= 5 {
            return (self.network, 0);
        }
        (self.network.wrapping_add(4), size - 5)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) }
}

impl FromStr for Ipv4Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = s.split_once('/').ok_or_else(|| format!("{s:?} is not a CIDR block (a.b.c.d/n)"))?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| format!("{s:?} is not a CIDR block: bad address"))?;
        let prefix: u8 = prefix.parse().map_err(|_| format!("{s:?} is not a CIDR block: bad prefix length"))?;
        Ipv4Cidr::new(addr, prefix).ok_or_else(|| format!("{s:?} is not a CIDR block: prefix length above 32"))
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let c: Ipv4Cidr = "192.168.96.0/19".parse().unwrap();
        assert_eq!(c.to_string(), "192.168.96.0/19");
        assert_eq!(c.size(), 8192);
        assert!(c.contains(Ipv4Addr::new(192, 168, 127, 255)));
        assert!(!c.contains(Ipv4Addr::new(192, 168, 128, 0)));
        // Host bits are cleared.
        let d: Ipv4Cidr = "10.0.1.7/24".parse().unwrap();
        assert_eq!(d.to_string(), "10.0.1.0/24");
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0/24", "x/1", "10.0.0.0/-1"] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn aws_reserves_five_addresses() {
        let c: Ipv4Cidr = "10.0.0.0/24".parse().unwrap();
        let (first, count) = c.aws_usable();
        assert_eq!(Ipv4Addr::from(first), Ipv4Addr::new(10, 0, 0, 4));
        assert_eq!(count, 251);
        let tiny: Ipv4Cidr = "10.0.0.0/30".parse().unwrap();
        assert_eq!(tiny.aws_usable().1, 0);
        let all: Ipv4Cidr = "0.0.0.0/0".parse().unwrap();
        assert_eq!(all.size(), 1 << 32);
    }
}
