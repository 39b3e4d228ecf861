from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from . import services
from .models import ApiToken, Membership, Unit, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "depth"]
    list_filter = ["kind", "depth"]
    search_fields = ["name", "short_name"]
    autocomplete_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        # Paths are the service's business: new units and moves go through it.
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services.unit_update(unit_id=obj.pk, **fields)
        else:
            created = services.unit_create(**{name: form.cleaned_data[name] for name in form.cleaned_data})
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "title", "email", "is_staff"]
    search_fields = ["username", "full_name", "email"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("督办", {"fields": ["full_name", "title", "phone", "reminder_opt_out"]}),
    ]
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by signing in; an administrator sees who holds one and revokes it."""

    list_display = ["user", "created", "last_used_at"]
    search_fields = ["user__username", "user__full_name"]
    fields = ["user", "created", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
