//! `dbguard snapshot`, `snapshots`, `restore`, `verify`, `prune`.

#[derive(clap::Args)]
pub struct Args {}
#[derive(clap::Args)]
pub struct ListArgs {}
#[derive(clap::Args)]
pub struct RestoreArgs {}
#[derive(clap::Args)]
pub struct VerifyArgs {}
#[derive(clap::Args)]
pub struct PruneArgs {}

pub fn run(_a: Args) -> anyhow::Result<u8> {
    Ok(crate::exit::OK)
}
pub fn list(_a: ListArgs) -> anyhow::Result<u8> {
    Ok(crate::exit::OK)
}
pub fn restore(_a: RestoreArgs) -> anyhow::Result<u8> {
    Ok(crate::exit::OK)
}
pub fn verify(_a: VerifyArgs) -> anyhow::Result<u8> {
    Ok(crate::exit::OK)
}
pub fn prune(_a: PruneArgs) -> anyhow::Result<u8> {
    Ok(crate::exit::OK)
}
