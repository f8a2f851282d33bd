-- A model's image side: 32 for every model before 64×64 generators existed.
ALTER TABLE "models" ADD COLUMN "resolution" integer DEFAULT 32 NOT NULL;
