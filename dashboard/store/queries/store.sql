-- Generic named queries of the app store (dashboard/store/db.py).

-- name: revision
select coalesce(max(nummer), 0) as nummer from revision where bereich = :bereich;

-- name: bump_revision
insert into revision (bereich, nummer) values (:bereich, 1)
on conflict (bereich) do update set nummer = revision.nummer + 1;

-- name: bump_all_revisions
update revision set nummer = nummer + 1;
