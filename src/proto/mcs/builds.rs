//! Client builds (TS_UD_CS_CORE `clientBuild`, MS-RDPBCGR 2.2.1.3.2) to the Windows release
//! that sends them. mstsc sends the build of the Windows it runs on; other clients send what
//! they like (FreeRDP sends 18363 whatever its platform), so a name here is what the build
//! says, not proof of the OS. Zeek's table stops at RDP 8.1 (9600); this one goes on through
//! Windows 10 and 11 and the Server releases, up to Windows 11 25H2.

/// (build, release), sorted by build.
const BUILDS: &[(u32, &str)] = &[
    (419, "RDP 4.0 client"),
    (2195, "Windows 2000"),
    (2221, "Windows 2000 (RDP 5.0 client)"),
    (2600, "Windows XP"),
    (3790, "Windows Server 2003"),
    (6000, "Windows Vista"),
    (6001, "Windows Vista SP1 / Server 2008"),
    (6002, "Windows Vista SP2 / Server 2008 SP2"),
    (7600, "Windows 7 / Server 2008 R2"),
    (7601, "Windows 7 SP1 / Server 2008 R2 SP1"),
    (9200, "Windows 8 / Server 2012"),
    (9600, "Windows 8.1 / Server 2012 R2"),
    (10240, "Windows 10 1507"),
    (10586, "Windows 10 1511"),
    (14393, "Windows 10 1607 / Server 2016"),
    (15063, "Windows 10 1703"),
    (16299, "Windows 10 1709"),
    (17134, "Windows 10 1803"),
    (17763, "Windows 10 1809 / Server 2019"),
    (18362, "Windows 10 1903"),
    (18363, "Windows 10 1909"),
    (19041, "Windows 10 2004"),
    (19042, "Windows 10 20H2"),
    (19043, "Windows 10 21H1"),
    (19044, "Windows 10 21H2"),
    (19045, "Windows 10 22H2"),
    (20348, "Windows Server 2022"),
    (22000, "Windows 11 21H2"),
    (22621, "Windows 11 22H2"),
    (22631, "Windows 11 23H2"),
    (25189, "Remote Desktop for Mac 8.0"),
    (25282, "Remote Desktop for Mac 8.0"),
    (25398, "Windows Server 23H2"),
    (26100, "Windows 11 24H2 / Server 2025"),
    (26200, "Windows 11 25H2"),
];

/// The Windows release a client build number belongs to, if known.
pub fn windows_release(build: u32) -> Option<&'static str> {
    BUILDS
        .binary_search_by_key(&build, |(b, _)| *b)
        .ok()
        .and_then(|i| BUILDS.get(i))
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_are_sorted_and_found() {
        assert!(BUILDS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(windows_release(22621), Some("Windows 11 22H2"));
        assert_eq!(windows_release(22622), None);
        assert_eq!(windows_release(22631), Some("Windows 11 23H2"));
        assert_eq!(windows_release(26200), Some("Windows 11 25H2"));
        assert_eq!(windows_release(2600), Some("Windows XP"));
    }
}
