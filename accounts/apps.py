from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and invitations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from accounts.receivers import say_logged_out

        user_logged_out.connect(say_logged_out, dispatch_uid="accounts.say_logged_out")
