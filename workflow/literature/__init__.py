"""Literature stage: records from PubMed snapshots, deduplication, screening, PRISMA counts."""
