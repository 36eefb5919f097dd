"""Photo -> panorama / world / object generators. No Qt, no GL, no `viewer` imports."""
