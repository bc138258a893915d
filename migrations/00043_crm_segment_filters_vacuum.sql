-- +goose NO TRANSACTION
-- +goose Up
-- The filter rows 00042 copied are new: until a vacuum marks their pages all-visible,
-- every index-only count would still visit the heap. Harmless to repeat.
VACUUM (ANALYZE) crm_segment_filters;

-- +goose Down
SELECT 1;
