"""The warehouse assets: one `raw/<table>` per operational table, then the published file."""
